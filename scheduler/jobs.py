"""Timed jobs (APScheduler 3.11, jobs kept in the service's own database): drafts, publication, reminders, digests, sweep.

Every community (tenant) has its own jobs, their ids carrying its code: `draft:{code}`,
`publish:{code}`, `digest:{code}`, `sweep:{code}` and `reminder:{code}:{month}:...`, so one
community's failing job never holds back another's. One more job, `communities`, keeps that set
in step with the store (a community imported while the leader runs gets its jobs within a sweep).

The published roster is the truth; reminder jobs are derived from it. Each reminder job, and the
sweep that runs every few minutes, does the same idempotent thing: take the month's latest published
roster, find the reminders that are due now (`due_reminders`, a pure function of roster, offsets and
clock) and enqueue each under its dedup key (expert, assignment id, reminder offset, session revision).
The event worker of the same process delivers the notice outbox every half second (one sender per
process, so sends go out one at a time, in order). So a lost job, a job that fires twice, a process killed mid-send or a second replica
cannot produce a second reminder, and a session that was cancelled or moved gets no stale one.

The session revision in the key is a digest of what the session is (date, half-day, place, expert):
a re-plan that leaves a session alone keeps its reminders (no second "tomorrow" message), one that
moves it gives it new ones at the new times.

A scheduler that is not started keeps added jobs in memory only: a process that only adds jobs
(a CLI) must `start(paused=True)` first (`open_job_store`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from config.settings import Settings, get_settings
from scheduler import flows, metrics
from scheduler.actors import as_system
from scheduler.db import make_engine, transaction
from scheduler.errors import FieldError, NotFound, ScenarioError
from scheduler.i18n import date_text
from scheduler.labels import CommunityLabels
from scheduler.notify.channels import Channel, channels_from_settings
from scheduler.notify.messages import NoticeText, reminder_text, session_summary
from scheduler.notify.models import utc_now
from scheduler.notify.outbox import notify_recipient
from scheduler.store import CommunityRef, export_scenario, get_community, list_communities, list_versions, load_roster_version
from scheduler.zone import SERVICE_ZONE
from solver.solution import Assignment

log = logging.getLogger(__name__)

SWEEP_SECONDS = 120
REMINDER_PREFIX = "reminder:"
STANDING_JOBS = ("draft", "publish", "digest", "sweep")  # one of each per community: "{kind}:{code}"
COMMUNITIES_JOB = "communities"

Clock = Callable[[], dt.datetime]


# --- reminders: pure functions ----------------------------------------------------------------

_DURATION = re.compile(r"^P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$")


def parse_duration(text: str) -> dt.timedelta:
    """An ISO 8601 duration of weeks, days, hours, minutes, seconds (P1D, PT2H, P1DT12H); ValueError otherwise."""
    match = _DURATION.match(text.strip().upper())
    if not match or text.strip().upper() in ("P", "PT") or text.strip().upper().endswith("T"):
        raise ValueError(f"{text!r} is not an ISO 8601 duration like P1D, PT2H or P1DT30M (years and months are not accepted)")
    parts = {name: int(value) for name, value in match.groupdict().items() if value}
    return dt.timedelta(**parts)


def parse_offsets(text: str) -> list[tuple[str, dt.timedelta]]:
    """The reminder offsets of ROTA_REMINDER_OFFSETS ("P1D,PT2H"), longest first; ScenarioError names the setting."""
    offsets: dict[str, dt.timedelta] = {}
    problems: list[FieldError] = []
    for raw in (part.strip() for part in (text or "").split(",")):
        if not raw:
            continue
        try:
            offsets[raw.upper()] = parse_duration(raw)
        except ValueError as error:
            problems.append(FieldError("reminder_offsets", str(error)))
    if problems:
        raise ScenarioError(problems)
    return sorted(offsets.items(), key=lambda item: item[1], reverse=True)


def standing_job_id(kind: str, community: str) -> str:
    """The id of a community's standing job (kind one of STANDING_JOBS): "draft:quannan"."""
    return f"{kind}:{community}"


@dataclass(frozen=True)
class PublishedRoster:
    """A community's latest published version of one month, with the labels that give its sessions clock times."""

    community: str  # the community's code
    community_id: int
    month: str
    version: int
    assignments: tuple[Assignment, ...]
    labels: CommunityLabels


@dataclass(frozen=True)
class SessionReminder:
    """One reminder of one session of a community at one offset before its start."""

    community: str
    month: str
    assignment: Assignment
    offset: str
    remind_at: dt.datetime
    starts_at: dt.datetime
    revision: str

    @property
    def job_id(self) -> str:
        return f"{REMINDER_PREFIX}{self.community}:{self.month}:{self.assignment.id}:{self.offset}:{self.revision}"

    @property
    def about(self) -> str:
        """The dedup key's subject: the session and the offset (the revision is the key's version)."""
        return f"{self.assignment.id}:{REMINDER_PREFIX}{self.offset}"


def session_revision(assignment: Assignment) -> str:
    """A short digest of what a session is (not its id), which changes exactly when the session moves."""
    content = "|".join(str(part) for part in (assignment.date, assignment.half_day, assignment.township, assignment.type, assignment.specialty, assignment.expert))
    return hashlib.blake2b(content.encode(), digest_size=5).hexdigest()


def session_start(assignment: Assignment, labels: CommunityLabels) -> dt.datetime:
    """When a session begins, in the community's time zone (its half-day's start on its date)."""
    start = labels.half_day_windows[assignment.half_day][0]
    hour, minute = (int(part) for part in start.split(":"))
    return dt.datetime.combine(assignment.date, dt.time(hour, minute), ZoneInfo(labels.timezone))


def reminder_schedule(roster: PublishedRoster, offsets: Iterable[tuple[str, dt.timedelta]]) -> list[SessionReminder]:
    """Every reminder the roster calls for: each session at each offset before it starts."""
    offsets = list(offsets)
    reminders = []
    for assignment in roster.assignments:
        starts_at = session_start(assignment, roster.labels)
        revision = session_revision(assignment)
        for name, before in offsets:
            reminders.append(SessionReminder(roster.community, roster.month, assignment, name, starts_at - before, starts_at, revision))
    return reminders


def due_reminders(roster: PublishedRoster, offsets: Iterable[tuple[str, dt.timedelta]], now: dt.datetime) -> list[SessionReminder]:
    """The reminders to send at `now`: per session that has not started, the latest offset whose time has come.

    An earlier offset that was missed (the service was down) is not sent once a later one is due:
    "in 2 hours" makes "tomorrow" pointless.
    """
    latest: dict[str, SessionReminder] = {}
    for reminder in reminder_schedule(roster, offsets):
        if reminder.remind_at <= now < reminder.starts_at:
            held = latest.get(reminder.assignment.id)
            if held is None or reminder.remind_at > held.remind_at:
                latest[reminder.assignment.id] = reminder
    return sorted(latest.values(), key=lambda r: (r.remind_at, r.assignment.id))


# --- reading the roster ------------------------------------------------------------------------


def load_published(session: Session, community: CommunityRef, month: str) -> PublishedRoster | None:
    """A community's latest published roster of the month with its labels, or None when nothing is published."""
    owner = get_community(session, community)
    try:
        solution, version, _status, _created = load_roster_version(session, owner.id, month, status="published")
    except NotFound:
        return None
    labels = CommunityLabels.from_scenario(export_scenario(session, owner.id))
    return PublishedRoster(owner.code, owner.id, month, version, solution.assignments, labels)


def local_month(moment: dt.datetime, months_ahead: int = 0) -> str:
    """The YYYY-MM of a moment in Beijing time, shifted by whole months."""
    local = moment.astimezone(SERVICE_ZONE)
    index = local.year * 12 + local.month - 1 + months_ahead
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def reminder_months(now: dt.datetime) -> list[str]:
    """The months whose sessions can have reminders due soon: this one and the next (a P1D at the month's end)."""
    return [local_month(now), local_month(now, 1)]


# --- sending -----------------------------------------------------------------------------------


def enqueue_reminders(session: Session, roster: PublishedRoster, reminders: Iterable[SessionReminder], settings: Settings, now: dt.datetime) -> int:
    """Enqueue each reminder to its expert (of the roster's community) under its dedup key; returns how many were new."""
    created = 0
    for reminder in reminders:
        assignment = reminder.assignment
        created += len(
            notify_recipient(
                session, community_id=roster.community_id, recipient_kind="expert", recipient_id=assignment.expert, kind="reminder", about=reminder.about,
                version=reminder.revision, text_for=lambda language, a=assignment: reminder_text(a, roster.labels, language, "expert"),
                default_webhook_url=settings.webhook_url, now=now,
            )
        )
    return created


def send_due_reminders(
    factory: sessionmaker[Session], community: CommunityRef, now: dt.datetime, settings: Settings, months: Iterable[str] | None = None
) -> int:
    """Enqueue a community's reminders due at `now` for the given months (default: this and next); returns how many were new."""
    offsets = parse_offsets(settings.reminder_offsets)
    created = 0
    for month in months or reminder_months(now):
        with transaction(factory) as session:
            roster = load_published(session, community, month)
            if roster is None:
                continue
            created += enqueue_reminders(session, roster, due_reminders(roster, offsets, now), settings, now)
    return created


# --- the daily digest to township heads --------------------------------------------------------

VISITOR_DIGEST = {
    "zh-CN": {
        "subject": "【明日下沉专家】{township} {date}",
        "intro": "{township}负责同志，您好：\n明天（{date}）到院的专家共{count}人次：",
        "footer": "—— {community}专家下沉排班系统",
    },
    "en": {
        "subject": "[Tomorrow's visiting experts] {township} {date}",
        "intro": "Dear {township},\nExperts coming tomorrow ({date}), {count} sessions:",
        "footer": "-- {community} township rota",
    },
}


def visitors_digest_text(township: str, day: dt.date, sessions: list[Assignment], labels: CommunityLabels, lang: str = "zh-CN") -> NoticeText:
    """The evening notice to a township head: who comes tomorrow, when, for what."""
    words = VISITOR_DIGEST.get(lang, VISITOR_DIGEST["zh-CN"])
    name = labels.township(township)
    lines = [f"- {session_summary(a, labels, lang, with_expert=True)}" for a in sorted(sessions, key=lambda a: (a.half_day, a.type, a.expert))]
    body = "\n".join([words["intro"].format(township=name, date=date_text(day, lang), count=len(sessions)), *lines,
                      words["footer"].format(community=labels.community)])
    return NoticeText(words["subject"].format(township=name, date=date_text(day, lang)), body)


def enqueue_visitor_digests(factory: sessionmaker[Session], community: CommunityRef, now: dt.datetime, settings: Settings) -> int:
    """Enqueue, to each of a community's township heads with visitors tomorrow, the list of them (once per township and day); returns how many."""
    tomorrow = now.astimezone(SERVICE_ZONE).date() + dt.timedelta(days=1)
    month = f"{tomorrow.year:04d}-{tomorrow.month:02d}"
    created = 0
    with transaction(factory) as session:
        roster = load_published(session, community, month)
        if roster is None:
            return 0
        by_township: dict[str, list[Assignment]] = defaultdict(list)
        for assignment in roster.assignments:
            if assignment.date == tomorrow:
                by_township[assignment.township].append(assignment)
        for township, sessions in sorted(by_township.items()):
            created += len(
                notify_recipient(
                    session, community_id=roster.community_id, recipient_kind="township", recipient_id=township, kind="digest", about=f"visitors-{tomorrow.isoformat()}",
                    version=roster.version,
                    text_for=lambda language, t=township, s=sessions: visitors_digest_text(t, tomorrow, s, roster.labels, language),
                    default_webhook_url=settings.webhook_url, now=now,
                )
            )
    return created


# --- the job runtime (what job functions, stored by reference, run against) -------------------


@dataclass
class JobRuntime:
    """The process's live parts that jobs need: they cannot be pickled into the job store, so jobs find them here."""

    factory: sessionmaker[Session]
    settings: Settings
    channels: Mapping[str, Channel]
    clock: Clock
    scheduler: BackgroundScheduler | None = None
    sweep_seconds: float = SWEEP_SECONDS


_runtime: JobRuntime | None = None


def set_runtime(runtime: JobRuntime | None) -> None:
    """Install (or clear) the runtime the job functions of this process use."""
    global _runtime
    _runtime = runtime


def _require_runtime() -> JobRuntime:
    if _runtime is None:
        raise RuntimeError("no job runtime: jobs run only in the process that holds the scheduler lock (scheduler.leader)")
    return _runtime


def run_reminder_job(community: str, month: str, assignment_id: str, offset: str, revision: str) -> int:
    """A reminder's moment has come: enqueue what is due for its community's month (idempotent; the roster decides)."""
    runtime = _require_runtime()
    return send_due_reminders(runtime.factory, community, runtime.clock(), runtime.settings, [month])


def run_sweep_job(community: str) -> int:
    """Repair a community's reminder jobs from its published rosters and send any reminder that is due but was missed."""
    runtime = _require_runtime()
    now = runtime.clock()
    created = send_due_reminders(runtime.factory, community, now, runtime.settings)
    if runtime.scheduler is not None:
        for month in reminder_months(now):
            sync_reminder_jobs(runtime.scheduler, runtime.factory, community, month, runtime.settings, now)
    return created


def run_digest_job(community: str) -> int:
    """Tonight's digest of a community: each township head hears who comes tomorrow."""
    runtime = _require_runtime()
    return enqueue_visitor_digests(runtime.factory, community, runtime.clock(), runtime.settings)


@as_system
def run_draft_job(community: str) -> int | None:
    """Generate a community's next-month draft, unless the month already has a version; returns the new version (None when queued for the workers)."""
    runtime = _require_runtime()
    month = local_month(runtime.clock(), 1)
    with runtime.factory() as session:
        if list_versions(session, community, month):
            log.info("draft job: %s %s already has a roster; not generating another", community, month)
            return None
        community_id = get_community(session, community).id
    if runtime.settings.broker_url:
        # With a broker the draft is solved by a `rota worker` (a job of `jobs`, one per community and month at a time).
        from scheduler.tasks import queue_generation

        job_id = queue_generation(runtime.factory, runtime.settings, community_id, month, "scheduled draft")
        log.info("draft job: %s %s queued as job %s", community, month, job_id)
        return None
    started = time.monotonic()
    version = flows.generate(runtime.factory, community, month, cause="scheduled draft")
    metrics.observe_solve("generate", time.monotonic() - started)
    log.info("draft job: generated %s %s version %s", community, month, version)
    return version


@as_system
def run_publish_job(community: str) -> int | None:
    """Publish a community's next-month latest draft when nothing of that month is published yet (auto-publish)."""
    runtime = _require_runtime()
    month = local_month(runtime.clock(), 1)
    with runtime.factory() as session:
        versions = list_versions(session, community, month)
    if not versions or any(v.status == "published" for v in versions):
        return None
    version = flows.publish(runtime.factory, community, month)
    if runtime.scheduler is not None:
        sync_reminder_jobs(runtime.scheduler, runtime.factory, community, month, runtime.settings, runtime.clock())
    return version


def run_communities_job() -> list[str]:
    """Give every community of the store its standing jobs (and drop those of communities gone); returns the codes served."""
    runtime = _require_runtime()
    if runtime.scheduler is None:
        return []
    codes = community_codes(runtime.factory)
    install_standing_jobs(runtime.scheduler, runtime.settings, codes, runtime.sweep_seconds, add_communities_job=False)
    return codes


# --- the scheduler -----------------------------------------------------------------------------


def _hour_minute(value: str, field: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", value.strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ScenarioError([FieldError(field, f"must be HH:MM (got {value!r})")])
    return int(match[1]), int(match[2])


def publish_trigger(settings: Settings) -> CronTrigger | None:
    """When to auto-publish: ROTA_PUBLISH_TIME "HH:MM" (on the draft day) or "+N HH:MM" (N days later); None = on approval."""
    value = settings.publish_time.strip()
    if not value:
        return None
    days_after = 0
    match = re.fullmatch(r"\+(\d+)\s+(.+)", value)
    if match:
        days_after, value = int(match[1]), match[2]
    hour, minute = _hour_minute(value, "publish_time")
    return CronTrigger(day=min(settings.draft_day + days_after, 28), hour=hour, minute=minute, timezone=SERVICE_ZONE)


def _job_label(job_id: str) -> str:
    # By kind, not by community: a hundred communities must not make a hundred metric series per job.
    return job_id.split(":", 1)[0]


def _count_job(event: JobExecutionEvent) -> None:
    outcome = "error" if event.exception else ("missed" if event.code == EVENT_JOB_MISSED else "ok")
    metrics.JOB_RUNS.labels(job=_job_label(event.job_id), outcome=outcome).inc()
    if event.exception:
        log.error("job %s failed: %r", event.job_id, event.exception)


def build_scheduler(settings: Settings | None = None, engine: Engine | None = None) -> BackgroundScheduler:
    """A BackgroundScheduler in Beijing time whose jobs live in the service's database (not started)."""
    settings = settings or get_settings()
    engine = engine or make_engine(settings.database_url)
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine)},
        executors={"default": ThreadPoolExecutor(4)},
        # Late jobs still run (reminders and the sweep are idempotent and check the clock themselves).
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        timezone=SERVICE_ZONE,
    )
    scheduler.add_listener(_count_job, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED)
    return scheduler


def open_job_store(settings: Settings | None = None) -> BackgroundScheduler:
    """A scheduler started paused: for a process that only adds or lists jobs (a stopped scheduler would keep them in memory)."""
    scheduler = build_scheduler(settings)
    scheduler.start(paused=True)
    return scheduler


def close_job_store(scheduler: BackgroundScheduler) -> None:
    """Shut a scheduler down without touching its stored jobs.

    APScheduler 3's loop makes one last pass over the due jobs after `shutdown` (even when paused); with
    the executors already gone it cannot run them, yet it deletes the spent date jobs from the store.
    Detaching the store first makes that last pass see nothing.
    """
    if not scheduler.running:
        return
    scheduler.pause()
    try:
        scheduler.remove_jobstore("default", shutdown=False)
    except KeyError:
        pass
    scheduler.shutdown(wait=False)


def community_codes(factory: sessionmaker[Session]) -> list[str]:
    """The codes of every community in the store (whose standing jobs the leader keeps)."""
    with factory() as session:
        return [row.code for row in list_communities(session)]


def _owner_of(job_id: str) -> str | None:
    """The community code a per-community job id carries ("draft:quannan", "reminder:quannan:2027-01:..."), else None."""
    kind, _, rest = job_id.partition(":")
    if kind in STANDING_JOBS or job_id.startswith(REMINDER_PREFIX):
        return rest.split(":", 1)[0] or None
    return None


def install_standing_jobs(
    scheduler: BackgroundScheduler, settings: Settings, communities: Iterable[str], sweep_seconds: float = SWEEP_SECONDS,
    *, add_communities_job: bool = True,
) -> None:
    """Add (or replace) each community's draft, publish, digest and sweep jobs from the settings; drop the jobs of communities not listed.

    With `add_communities_job`, also the job that repeats this against the store every sweep.
    """
    zone = SERVICE_ZONE
    if not 1 <= settings.draft_day <= 28:
        raise ScenarioError([FieldError("draft_day", f"must be 1-28 so every month has it (got {settings.draft_day})")])
    draft_hour, draft_minute = _hour_minute(settings.draft_time, "draft_time")
    trigger = publish_trigger(settings)
    digest_hour, digest_minute = _hour_minute(settings.digest_time, "digest_time")
    codes = sorted(set(communities))
    existing = {job.id for job in scheduler.get_jobs()}
    for code in codes:
        scheduler.add_job(run_draft_job, CronTrigger(day=settings.draft_day, hour=draft_hour, minute=draft_minute, timezone=zone),
                          args=[code], id=standing_job_id("draft", code), name=f"next month's draft of {code}", replace_existing=True,
                          misfire_grace_time=6 * 3600)
        if trigger is not None:
            scheduler.add_job(run_publish_job, trigger, args=[code], id=standing_job_id("publish", code), name=f"auto-publish of {code}",
                              replace_existing=True, misfire_grace_time=6 * 3600)
        elif standing_job_id("publish", code) in existing:
            _remove(scheduler, standing_job_id("publish", code))
        # A digest after 22:00 is useless: the grace covers a restart, not a day-long outage.
        scheduler.add_job(run_digest_job, CronTrigger(hour=digest_hour, minute=digest_minute, timezone=zone), args=[code],
                          id=standing_job_id("digest", code), name=f"tomorrow's visitors of {code}", replace_existing=True,
                          misfire_grace_time=4 * 3600)
        sweep_id = standing_job_id("sweep", code)
        if sweep_id not in existing or add_communities_job:
            # Re-adding a running sweep would push its next run back; the reconciling job leaves it alone.
            scheduler.add_job(run_sweep_job, IntervalTrigger(seconds=sweep_seconds, timezone=zone), args=[code], id=sweep_id,
                              name=f"reminder sweep of {code}", replace_existing=True, next_run_time=dt.datetime.now(zone))
    wanted = set(codes)
    for job_id in existing:
        owner = _owner_of(job_id)
        if owner is not None and owner not in wanted:
            _remove(scheduler, job_id)
    if add_communities_job:
        scheduler.add_job(run_communities_job, IntervalTrigger(seconds=sweep_seconds, timezone=zone), id=COMMUNITIES_JOB,
                          name="standing jobs of every community", replace_existing=True)


def _remove(scheduler: BackgroundScheduler, job_id: str) -> None:
    try:
        scheduler.remove_job(job_id)
    except JobLookupError:
        pass


def sync_reminder_jobs(
    scheduler: BackgroundScheduler, factory: sessionmaker[Session], community: CommunityRef, month: str, settings: Settings, now: dt.datetime
) -> tuple[int, int]:
    """Make a community's reminder jobs of the month match its published roster: add the missing future ones, drop the rest; returns (added, removed)."""
    offsets = parse_offsets(settings.reminder_offsets)
    with factory() as session:
        code = get_community(session, community).code
        roster = load_published(session, code, month)
    wanted = {}
    if roster is not None:
        wanted = {r.job_id: r for r in reminder_schedule(roster, offsets) if r.remind_at > now}
    prefix = f"{REMINDER_PREFIX}{code}:{month}:"
    existing = {job.id for job in scheduler.get_jobs() if job.id.startswith(prefix)}
    removed = 0
    for job_id in existing - wanted.keys():
        try:
            scheduler.remove_job(job_id)
            removed += 1
        except JobLookupError:
            pass
    added = 0
    for job_id in sorted(wanted.keys() - existing):
        reminder = wanted[job_id]
        scheduler.add_job(
            run_reminder_job, DateTrigger(run_date=reminder.remind_at), id=job_id, name=f"reminder {reminder.offset}",
            args=[code, month, reminder.assignment.id, reminder.offset, reminder.revision], replace_existing=True,
        )
        added += 1
    if added or removed:
        log.info("reminder jobs of %s %s: %s added, %s removed", code, month, added, removed)
    return added, removed


def start_job_scheduler(
    factory: sessionmaker[Session],
    settings: Settings | None = None,
    *,
    channels: Mapping[str, Channel] | None = None,
    clock: Clock | None = None,
    sweep_seconds: float = SWEEP_SECONDS,
) -> JobRuntime:
    """Start the scheduler of this process (call only while holding the scheduler lock) and return its runtime."""
    settings = settings or get_settings()
    parse_offsets(settings.reminder_offsets)  # refuse a bad setting before anything runs
    runtime = JobRuntime(
        factory=factory, settings=settings, channels=channels if channels is not None else channels_from_settings(settings),
        clock=clock or utc_now, sweep_seconds=sweep_seconds,
    )
    scheduler = build_scheduler(settings, factory.kw["bind"])
    runtime.scheduler = scheduler
    set_runtime(runtime)
    scheduler.start(paused=True)
    install_standing_jobs(scheduler, settings, community_codes(factory), sweep_seconds)
    scheduler.resume()
    return runtime


def stop_job_scheduler(runtime: JobRuntime) -> None:
    """Stop the scheduler (jobs stay in the store for the next holder of the lock)."""
    if runtime.scheduler is not None:
        close_job_store(runtime.scheduler)
    if _runtime is runtime:
        set_runtime(None)
