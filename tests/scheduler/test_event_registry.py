"""The event kinds are one registry: complete whenever the events package is imported, and a new kind is one module.

Completeness is judged against the source: every class under `scheduler/events/kinds/` decorated with
`@register` names a kind, and a fresh interpreter that imports only `scheduler.events` (or only the outbox,
as `scheduler.flows` does) must hold exactly those. The one-module test copies the service's code to a
temporary folder, adds a single kind module there and nothing else, and sees the new kind labelled, its
payload read and refused, and its event recorded and settled by the real worker on a real database.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KINDS_DIR = ROOT / "scheduler" / "events" / "kinds"
MINIMAL = Path(__file__).resolve().parent / "minimal.yaml"


def _registered_in_source(folder: Path) -> set[str]:
    """The `name` of every `@register` class in the folder's modules, read from the code (nothing imported)."""
    names: set[str] = set()
    for path in folder.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef):
                continue
            if not any(isinstance(d, ast.Name) and d.id == "register" for d in node.decorator_list):
                continue
            for item in node.body:
                if isinstance(item, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "name" for t in item.targets):
                    names.add(item.value.value)  # type: ignore[attr-defined]
    return names


def _run(code: str, cwd: Path, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    result = subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr.strip().splitlines()[-5:]
    return result.stdout.strip().splitlines()[-1]


def test_the_source_names_every_kind():
    names = _registered_in_source(KINDS_DIR)
    assert {"leave", "closure", "reopen", "request", "swap", "demand", "township", "expert", "revert", "forced"} <= names


@pytest.mark.parametrize("module", ["scheduler.events", "scheduler.events.outbox", "scheduler.flows"])
def test_the_registry_is_complete_in_a_fresh_interpreter(module):
    code = f"import json, {module}\nfrom scheduler.events.registry import KINDS\nprint(json.dumps(sorted(KINDS)))"
    assert set(json.loads(_run(code, ROOT))) == _registered_in_source(KINDS_DIR)


PROBE_KIND = '''
"""A kind the registry test adds: one module, and nothing else in the tree is edited."""

from scheduler.events.registry import EventKind, Payload, register, zh


class ProbePayload(Payload):
    note: str
    count: int


@register
class Probe(EventKind):
    name = "probe"
    payload_type = ProbePayload
    labels = {"zh-CN": "探针", "en": "probe"}
    cancellation_reasons = {"zh-CN": "探针调整", "en": "probe change"}
    replans = False

    def settle(self, factory, community_id, payload):
        return {"probe": {"note": payload.note, "doubled": payload.count * 2}}

    def summary(self, payload, lang="zh-CN"):
        return f"探针 {payload.note}" if zh(lang) else f"probe {payload.note}"
'''

PROBE_RUN = '''
import json, sys
import scheduler.events as events
from config.settings import Settings
from scheduler import store
from scheduler.db import make_engine, session_factory, transaction
from scheduler.migrate import migrate
from scheduler.scenario import load_scenario

engine = make_engine(sys.argv[1])
migrate(engine)
factory = session_factory(engine)
with transaction(factory) as session:
    community = store.import_scenario(session, "probe-county", load_scenario(sys.argv[2]))
    event_id = events.record_event(session, community, "probe", {"note": "n1", "count": 21})
try:
    with transaction(factory) as session:
        events.record_event(session, community, "probe", {"note": "n2"})
    refused = ""
except ValueError as error:
    refused = str(error)
kind = events.kind_of("probe")
handled = events.process_pending(factory, settings=Settings(database_url=sys.argv[1], webhook_url=""))
with factory() as session:
    event = events.get_event(session, community, event_id)
engine.dispose()
print(json.dumps({
    "kinds": sorted(events.KINDS), "labels": [events.kind_label("probe", "zh-CN"), events.kind_label("probe", "en")],
    "summaries": [event.summary("zh-CN"), event.summary("en")], "payload": type(kind.read({"note": "x", "count": 1})).__name__,
    "refused": refused, "handled": handled, "status": event.status, "outcome": event.outcome,
}))
'''


def test_a_new_kind_is_one_module(tmp_path, database_url):
    tree = tmp_path / "tree"
    for part in ("scheduler", "solver", "config", "migrations"):
        shutil.copytree(ROOT / part, tree / part, ignore=shutil.ignore_patterns("__pycache__"))
    before = _registered_in_source(tree / "scheduler" / "events" / "kinds")
    (tree / "scheduler" / "events" / "kinds" / "probe.py").write_text(textwrap.dedent(PROBE_KIND), encoding="utf-8")

    shown = json.loads(_run(PROBE_RUN, tree, database_url, str(MINIMAL)))

    assert "probe" not in before and set(shown["kinds"]) == before | {"probe"}
    assert shown["labels"] == ["探针", "probe"]
    assert shown["summaries"] == ["探针 n1", "probe n1"]
    assert shown["payload"] == "ProbePayload"
    assert "probe" in shown["refused"] and "count" in shown["refused"]  # the payload is checked against the kind's model
    assert shown["handled"] == 1 and shown["status"] == "done"
    assert shown["outcome"]["probe"] == {"note": "n1", "doubled": 42}  # the worker dispatched to the kind's own handler
