"""Benchmark of the calendar feeds: the service's expert and county feeds against nginx serving the same bytes, in one run.

`python -m bench.feeds [--workers 2] [--connections 100] [--seconds 10] [--database-url URL]`

Imports the sample county into a fresh database (PostgreSQL by default: a new database beside
ROTA_TEST_POSTGRES_URL's, dropped at the end), solves and publishes its month, issues an expert's
and the community's feed links, starts `rota serve --workers N`, saves the two feeds' bytes and
starts nginx (2 worker processes) serving those files. wrk then loads each of the four addresses
in turn with the same connections and threads, and the table gives requests per second, p99
latency and the service's share of nginx's rate. Needs `wrk` and `nginx` (Debian: apt-get install
wrk nginx-light). Time the machine when nothing else runs: both servers share its cores with wrk.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


from bench.databases import drop_postgres, fresh_postgres
from config.settings import SAMPLE_SCENARIO
from scheduler import auth, flows, store
from scheduler.db import make_engine, session_factory, transaction
from scheduler.migrate import migrate
from scheduler.scenario.load import load_scenario

REPO = Path(__file__).resolve().parent.parent
COMMUNITY = "quannan"
MONTH = "2027-01"  # the sample scenario's month
NGINX_CONF = """
worker_processes 2;
pid {folder}/nginx.pid;
error_log {folder}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  types {{ text/calendar ics; }}
  server {{
    listen 127.0.0.1:{port};
    root {folder}/www;
    etag on;
  }}
}}
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"{url} did not answer within {seconds:.0f} s")
        time.sleep(0.3)


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return answer.read()


def wrk(url: str, connections: int, seconds: int) -> tuple[float, float, int]:
    """(requests per second, p99 latency in ms, non-2xx/3xx answers) of one wrk run."""
    result = subprocess.run(["wrk", f"-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url], capture_output=True, text=True, check=True)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", result.stdout).group(1))
    p99_value, p99_unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", result.stdout).groups()
    p99 = float(p99_value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99_unit]
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", result.stdout)
    return rate, p99, int(errors.group(1)) if errors else 0


def seed(url: str) -> tuple[str, str]:
    """Import, solve and publish the sample month; return (expert feed token, community feed token)."""
    engine = make_engine(url)
    migrate(engine)
    factory = session_factory(engine)
    with transaction(factory) as session:
        store.import_scenario(session, COMMUNITY, load_scenario(SAMPLE_SCENARIO))
    number = flows.generate(factory, COMMUNITY, MONTH, cause="bench")
    with transaction(factory) as session:
        store.publish(session, COMMUNITY, MONTH, number)
        solution, _, _, _ = store.load_roster_version(session, COMMUNITY, MONTH, number)
        busiest = max(sorted({a.expert for a in solution.assignments}), key=lambda e: sum(a.expert == e for a in solution.assignments))
        _, expert_feed = auth.create_feed_token(session, COMMUNITY, "expert", busiest)
        _, county_feed = auth.create_feed_token(session, COMMUNITY, "community")
    engine.dispose()
    return expert_feed, county_feed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.feeds", description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="server processes of `rota serve --workers`")
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--database-url", default="", help="default: a fresh PostgreSQL database, dropped at the end")
    args = parser.parse_args(argv)
    for tool in ("wrk", "nginx"):
        if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists():
            print(f"bench.feeds needs {tool} (apt-get install wrk nginx-light)", file=sys.stderr)
            return 2

    admin_url = os.environ.get("ROTA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    dropped = None
    url = args.database_url
    if not url:
        url, dropped = fresh_postgres(admin_url, "rota_bench_feeds")
    folder = Path(tempfile.mkdtemp(prefix="bench-feeds-"))
    folder.chmod(0o755)  # nginx's worker processes drop root and must read the files
    server = nginx = None
    try:
        expert_feed, county_feed = seed(url)
        port = free_port()
        env = {**os.environ, "ROTA_DATABASE_URL": url, "PYTHONPATH": str(REPO), "ROTA_ACCESS_LOG": "false"}  # nginx logs nothing either
        server = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--workers", str(args.workers), "--port", str(port)],
                                  env=env, stdout=(folder / "serve.log").open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
        service = f"http://127.0.0.1:{port}"
        wait_for(f"{service}/healthz")
        paths = {"expert feed": f"/c/{COMMUNITY}/feeds/{expert_feed}.ics", "county feed": f"/c/{COMMUNITY}/feeds/{county_feed}.ics"}
        (folder / "www").mkdir()
        for name, path in paths.items():
            (folder / "www" / f"{name.split()[0]}.ics").write_bytes(fetch(service + path))
        nginx_port = free_port()
        (folder / "nginx.conf").write_text(NGINX_CONF.format(folder=folder, port=nginx_port))
        nginx_binary = shutil.which("nginx") or "/usr/sbin/nginx"
        nginx = subprocess.Popen([nginx_binary, "-c", str(folder / "nginx.conf"), "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        static = f"http://127.0.0.1:{nginx_port}"
        try:
            wait_for(f"{static}/expert.ics", seconds=20)
        except SystemExit:
            raise SystemExit(f"nginx did not serve the files: {(folder / 'nginx-error.log').read_text(errors='replace')[-1500:]}") from None

        print(f"feeds, wrk -t2 -c{args.connections} -d{args.seconds}s, service: rota serve --workers {args.workers}; nginx: 2 workers")
        print(f"{'feed':<12} {'bytes':>8} {'service req/s':>14} {'p99 ms':>8} {'nginx req/s':>12} {'p99 ms':>8} {'share':>7} {'errors':>7}")
        for name, path in paths.items():
            size = (folder / "www" / f"{name.split()[0]}.ics").stat().st_size
            for url in (service + path, f"{static}/{name.split()[0]}.ics"):
                wrk(url, args.connections, 2)  # warm-up: every server process has rendered (or opened) the file
            ours, ours_p99, errors = wrk(service + path, args.connections, args.seconds)
            theirs, theirs_p99, _ = wrk(f"{static}/{name.split()[0]}.ics", args.connections, args.seconds)
            print(f"{name:<12} {size:>8} {ours:>14.0f} {ours_p99:>8.1f} {theirs:>12.0f} {theirs_p99:>8.1f} {ours / theirs:>6.1%} {errors:>7}")
    finally:
        for process in (server, nginx):
            if process is not None and process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM) if process is server else process.terminate()
                    process.wait(timeout=20)
                except (subprocess.TimeoutExpired, ProcessLookupError):
                    process.kill()
        if dropped:
            drop_postgres(admin_url, dropped)
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
