"""The one place where the service reads its settings (environment variables prefixed ROTA_)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

EXAMPLES_DIR = Path(__file__).parent / "examples"
SAMPLE_SCENARIO = EXAMPLES_DIR / "quannan.yaml"


def default_database_url() -> str:
    """An SQLite file in ./var, created on first use: the embedded, zero set-up default."""
    return f"sqlite:///{Path.cwd() / 'var' / 'rota.sqlite3'}"


class Settings(BaseSettings):
    """Service settings; every field can be set as ROTA_<FIELD> in the environment."""

    model_config = SettingsConfigDict(env_prefix="ROTA_", env_file=".env", extra="ignore")

    database_url: str = Field(default_factory=default_database_url)
    host: str = "127.0.0.1"
    port: int = 8000
    base_url: str = ""  # public URL used in feed links; defaults to http://host:port
    language: str = "zh-CN"  # zh-CN or en for calendar titles, pages and notices
    solver_time_limit: float = 20.0
    solver_workers: int = 2
    auto_approve_requests: bool = True
    swap_requires_approval: bool = False  # an accepted swap also waits for the office
    history_months: int = Field(default=3, ge=0, le=24)  # published months before a month that count toward its fairness and continuity (0 = each month alone)
    replan_publish: Literal["publish", "draft"] = "publish"  # a re-plan after a change of a published month: publish at once, or hold a draft
    reminder_offsets: str = "P1D,PT2H"  # ISO 8601 durations before each session
    draft_day: int = 20  # day of month on which next month's draft is generated
    draft_time: str = "09:00"
    digest_time: str = "17:00"
    publish_time: str = ""  # optional HH:MM on the draft day +N to auto-publish; empty = on approval
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_sender: str = "rota@localhost"
    smtp_starttls: bool = False
    webhook_url: str = ""
    event_max_attempts: int = 5
    feed_cancelled_days: int = 30
    access_log: bool = True  # uvicorn's access log (feed tokens redacted); off for load benchmarks
    feed_fresh_seconds: float = Field(default=5.0, ge=0.0, le=300.0)  # a feed checked this recently is served from memory (a revoked link may work this long)
    feed_cache_bytes: int = Field(default=64 * 1024 * 1024, ge=1024 * 1024)  # rendered feeds kept per process
    run_scheduler: bool = True  # take part in the leader election for timed jobs
    scenario_max_bytes: int = 2_000_000  # a scenario file or body larger than this is refused unread (largest county ~0.2 MB)
    scenario_parse_timeout: float = 5.0  # seconds a bounded scenario parse may take before its process is killed
    leader_lease_seconds: float = Field(default=10.0, ge=3.0, le=25.0)  # a silent leader is replaced after this
    max_body_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)  # largest request body (413 beyond)
    max_scenario_body_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)  # largest PUT /scenario body
    allowance_rates: str = ""  # a YAML/JSON rate table for 下沉补助 (per session type and title, per day away); empty = placeholder rates
    broker_url: str = ""  # Celery broker (amqp://guest:guest@127.0.0.1:5672//); empty = solves run in the API process
    result_backend: str = ""  # Celery result backend (redis://127.0.0.1:6379/0); job state itself lives in the database
    task_queue: str = "rota"  # the Celery queue the API sends solves to and `rota worker` takes them from
    login_link_hours: float = Field(default=72.0, gt=0.0, le=720.0)  # a township head's or expert's one-time login link works this long
    link_session_hours: float = Field(default=12.0, gt=0.0, le=24.0 * 90)  # the page session a login link opens lasts this long
    community_code: str = ""  # the code migration 0006 gives a database's existing community (default: a slug of its name, or c<id>)

    @property
    def public_base_url(self) -> str:
        return self.base_url.rstrip("/") or f"http://{self.host}:{self.port}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
