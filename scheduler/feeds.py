"""iCalendar feeds (RFC 5545, RFC 7986) of published rosters: which events a subscriber sees, and their bytes.

Pure functions, no database: the caller passes the history of a month's *published* versions (drafts never
reach a feed) and gets, per subscriber scope, one entry per assignment id with its latest content, a SEQUENCE
that rises whenever the assignment changed, and STATUS:CANCELLED for an assignment that left the scope
(removed, or moved to another expert or township), kept for `CANCELLED_DAYS` so phones drop the event.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import secrets
from dataclasses import dataclass
from typing import Iterable, Literal, NamedTuple, Sequence
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event, vDuration

from scheduler import i18n
from scheduler.labels import CommunityLabels
from solver.solution import Assignment

CANCELLED_DAYS = 30
REFRESH_INTERVAL = dt.timedelta(hours=1)
DEFAULT_REMINDER = dt.timedelta(days=1)
PRODID = "-//township-rota//roster feeds//ZH"
UID_DOMAIN = "township-rota"

ScopeKind = Literal["expert", "township", "department", "community"]


class PublishedVersion(NamedTuple):
    """One published version of a month's roster: when it was published and its assignments."""

    published_at: dt.datetime
    assignments: Sequence[Assignment]


@dataclass(frozen=True)
class FeedScope:
    """Whose calendar a feed is: one expert, one township, one department (its experts) or the whole community."""

    kind: ScopeKind
    key: str = ""
    expert_ids: frozenset[str] = frozenset()

    def includes(self, assignment: Assignment) -> bool:
        """Whether the assignment belongs in this scope's calendar."""
        if self.kind == "expert":
            return assignment.expert == self.key
        if self.kind == "township":
            return assignment.township == self.key
        if self.kind == "department":
            return assignment.expert in self.expert_ids
        return True


def expert_scope(expert_id: str) -> FeedScope:
    """The feed of one expert's own sessions."""
    return FeedScope("expert", expert_id)


def township_scope(township_id: str) -> FeedScope:
    """The feed of everyone who comes to one township."""
    return FeedScope("township", township_id)


def department_scope(department_code: str, expert_ids: Iterable[str]) -> FeedScope:
    """The feed of a county department: the sessions of its experts."""
    return FeedScope("department", department_code, frozenset(expert_ids))


def community_scope() -> FeedScope:
    """The feed of the whole community's roster."""
    return FeedScope("community")


@dataclass(frozen=True)
class FeedEntry:
    """One VEVENT of a feed: an assignment's content as the subscriber should now see it."""

    assignment: Assignment  # latest content; for a cancelled entry, the last content the scope saw
    sequence: int
    status: Literal["CONFIRMED", "CANCELLED"]
    last_modified: dt.datetime  # publication that gave the entry its present sequence and status
    companions: tuple[Assignment, ...] = ()  # others at the same township that day (latest version)

    @property
    def cancelled(self) -> bool:
        return self.status == "CANCELLED"


def new_feed_token() -> str:
    """An unguessable URL token for a feed subscription (192 random bits)."""
    return secrets.token_urlsafe(24)


def _check_history(published_versions: Sequence[tuple[dt.datetime, Sequence[Assignment]]]) -> None:
    previous: dt.datetime | None = None
    for index, (published_at, _) in enumerate(published_versions):
        if published_at.tzinfo is None:
            raise ValueError(f"published_versions[{index}]: publication time must carry a time zone")
        if previous is not None and published_at < previous:
            raise ValueError(f"published_versions[{index}]: versions must be given oldest first")
        previous = published_at


def _global_sequences(published_versions: Sequence[tuple[dt.datetime, Sequence[Assignment]]]) -> list[dict[str, int]]:
    """Per version, each id's SEQUENCE: 0 when first published, +1 at every version where it changed or vanished."""
    sequences: list[dict[str, int]] = []
    current: dict[str, int] = {}
    last_state: dict[str, tuple | None] = {}  # id -> content, or None while absent
    for _, assignments in published_versions:
        present = {a.id: a.content for a in assignments}
        for assignment_id in set(present) | set(last_state):
            state = present.get(assignment_id)
            if assignment_id not in last_state:
                current[assignment_id] = 0
            elif last_state[assignment_id] != state:
                current[assignment_id] += 1
            last_state[assignment_id] = state
        sequences.append(dict(current))
    return sequences


def _companions(assignment: Assignment, roster: Sequence[Assignment]) -> tuple[Assignment, ...]:
    others = [
        other
        for other in roster
        if other.township == assignment.township and other.date == assignment.date and other.expert != assignment.expert
    ]
    return tuple(sorted(others, key=lambda a: (a.half_day, a.expert, a.type, a.specialty or "", a.id)))


def feed_entries_for(
    scope: FeedScope,
    published_versions: Sequence[tuple[dt.datetime, Sequence[Assignment]]],
    now: dt.datetime,
    cancelled_days: int = CANCELLED_DAYS,
) -> list[FeedEntry]:
    """The events a scope's subscribers see, from a month's published versions (oldest first) as of `now`."""
    if not published_versions:
        return []
    _check_history(published_versions)
    sequences = _global_sequences(published_versions)
    # Per id: the index of the last version where it was in scope, and its content there.
    last_in_scope: dict[str, tuple[int, Assignment]] = {}
    for index, (_, assignments) in enumerate(published_versions):
        for assignment in assignments:
            if scope.includes(assignment):
                last_in_scope[assignment.id] = (index, assignment)
    latest_index = len(published_versions) - 1
    latest_roster = list(published_versions[-1][1])
    entries: list[FeedEntry] = []
    for assignment_id, (index, assignment) in last_in_scope.items():
        if index == latest_index:
            sequence = sequences[latest_index][assignment_id]
            changed_at = _when_sequence_reached(assignment_id, sequence, sequences, published_versions)
            entries.append(FeedEntry(assignment, sequence, "CONFIRMED", changed_at, _companions(assignment, latest_roster)))
            continue
        # It left the scope with the next publication: removed, or moved to another expert/township.
        cancelled_at = published_versions[index + 1][0]
        if now - cancelled_at >= dt.timedelta(days=cancelled_days):
            continue
        sequence = sequences[index + 1][assignment_id]
        entries.append(FeedEntry(assignment, sequence, "CANCELLED", cancelled_at))
    return sorted(entries, key=_entry_order)


def feed_entries(
    published_versions: Sequence[tuple[dt.datetime, Sequence[Assignment]]],
    now: dt.datetime,
    cancelled_days: int = CANCELLED_DAYS,
) -> list[FeedEntry]:
    """The events of the whole community's feed (see `feed_entries_for`)."""
    return feed_entries_for(community_scope(), published_versions, now, cancelled_days)


def feed_entries_across_months(
    scope: FeedScope,
    histories: Iterable[Sequence[tuple[dt.datetime, Sequence[Assignment]]]],
    now: dt.datetime,
    cancelled_days: int = CANCELLED_DAYS,
) -> list[FeedEntry]:
    """One scope's events over several months, each month's published history (oldest first) given on its own."""
    entries = [entry for history in histories for entry in feed_entries_for(scope, history, now, cancelled_days)]
    return sorted(entries, key=_entry_order)


def _when_sequence_reached(
    assignment_id: str,
    sequence: int,
    sequences: list[dict[str, int]],
    published_versions: Sequence[tuple[dt.datetime, Sequence[Assignment]]],
) -> dt.datetime:
    for index, by_id in enumerate(sequences):
        if by_id.get(assignment_id) == sequence:
            return published_versions[index][0]
    return published_versions[-1][0]


def _entry_order(entry: FeedEntry) -> tuple:
    a = entry.assignment
    return (a.date, a.half_day, a.township, a.expert, a.type, a.specialty or "", a.id)


# ---------------------------------------------------------------- rendering


def event_summary(assignment: Assignment, labels: CommunityLabels, lang: str = i18n.DEFAULT_LANG, with_expert: bool = False) -> str:
    """The event title: `南迳镇卫生院 · 心血管内科 坐诊`, `南迳镇卫生院 · 挂点督导`, a link visit marked."""
    session_type = i18n.session_type_name(assignment.type, lang)
    township = labels.township(assignment.township)
    if assignment.specialty is None:
        summary = i18n.text("summary_supervision", lang, township=township, session_type=session_type)
    else:
        summary = i18n.text("summary", lang, township=township, specialty=labels.specialty(assignment.specialty), session_type=session_type)
    if assignment.link_visit and assignment.type != "supervision":
        summary = i18n.text("summary_link_visit", lang, summary=summary, mark=i18n.text("link_visit_mark", lang))
    if with_expert:
        summary = i18n.text("summary_with_expert", lang, summary=summary, expert=labels.expert(assignment.expert))
    return summary


def _what(assignment: Assignment, labels: CommunityLabels, lang: str) -> str:
    session_type = i18n.session_type_name(assignment.type, lang)
    if assignment.specialty is None:
        return session_type
    return f"{labels.specialty(assignment.specialty)} {session_type}"


def event_description(entry: FeedEntry, labels: CommunityLabels, lang: str = i18n.DEFAULT_LANG) -> str:
    """The event's notes: when, who else goes to that township that day, the shared car and the travel time."""
    assignment = entry.assignment
    start, end = labels.window(assignment.half_day)
    lines = [
        i18n.text(
            "when",
            lang,
            date=i18n.date_text(assignment.date, lang),
            weekday=i18n.weekday_name(assignment.date, lang),
            half_day=i18n.half_day_name(assignment.half_day, lang),
            start=start.strftime("%H:%M"),
            end=end.strftime("%H:%M"),
        )
    ]
    if entry.cancelled:
        lines.append(i18n.text("cancelled_note", lang))
        return "\n".join(lines)
    if assignment.link_visit:
        lines.append(i18n.text("link_visit_note", lang))
    township = labels.township(assignment.township)
    if entry.companions:
        named = [
            i18n.text(
                "companion",
                lang,
                expert=labels.expert(other.expert),
                what=_what(other, labels, lang),
                half_day=i18n.half_day_name(other.half_day, lang),
            )
            for other in entry.companions
        ]
        lines.append(i18n.text("companions_intro", lang, township=township) + i18n.text("companion_separator", lang).join(named))
    else:
        lines.append(i18n.text("alone", lang, township=township))
    minutes = labels.travel_minutes.get(assignment.township)
    if minutes is not None:
        lines.append(i18n.text("shared_car" if entry.companions else "own_car", lang, minutes=minutes))
    return "\n".join(lines)


def calendar_name(scope: FeedScope, labels: CommunityLabels, lang: str = i18n.DEFAULT_LANG) -> str:
    """The calendar's display name for a scope (`李海林 · 专家下沉排班`)."""
    if scope.kind == "expert":
        return i18n.text("calendar_expert", lang, expert=labels.expert(scope.key))
    if scope.kind == "township":
        return i18n.text("calendar_township", lang, township=labels.township(scope.key))
    if scope.kind == "department":
        return i18n.text("calendar_department", lang, department=labels.department(scope.key))
    return i18n.text("calendar_community", lang, community=labels.community)


def event_uid(assignment_id: str) -> str:
    """The VEVENT UID of an assignment, stable across versions because the assignment id is."""
    return f"{assignment_id}@{UID_DOMAIN}"


def _alarm(summary: str, reminder: dt.timedelta, lang: str) -> Alarm:
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    if reminder == dt.timedelta(days=1):
        alarm.add("description", i18n.text("alarm", lang, summary=summary))
    else:
        alarm.add("description", i18n.text("alarm_minutes", lang, minutes=int(reminder.total_seconds() // 60), summary=summary))
    alarm.add("trigger", -reminder)
    return alarm


def _event(entry: FeedEntry, labels: CommunityLabels, zone: ZoneInfo, lang: str, with_expert: bool, reminder: dt.timedelta | None) -> Event:
    assignment = entry.assignment
    start, end = labels.window(assignment.half_day)
    summary = event_summary(assignment, labels, lang, with_expert)
    event = Event()
    event.add("uid", event_uid(assignment.id))
    event.add("sequence", entry.sequence)
    # DTSTAMP is the change's publication time, not the request time, so an unchanged feed keeps its bytes and ETag.
    event.add("dtstamp", entry.last_modified.astimezone(dt.timezone.utc))
    event.add("last-modified", entry.last_modified.astimezone(dt.timezone.utc))
    event.add("dtstart", dt.datetime.combine(assignment.date, start, tzinfo=zone))
    event.add("dtend", dt.datetime.combine(assignment.date, end, tzinfo=zone))
    event.add("summary", i18n.text("summary_cancelled", lang, summary=summary) if entry.cancelled else summary)
    event.add("location", labels.township(assignment.township))
    event.add("description", event_description(entry, labels, lang))
    event.add("status", entry.status)
    event.add("transp", "TRANSPARENT" if entry.cancelled else "OPAQUE")
    if reminder is not None and not entry.cancelled:
        event.add_component(_alarm(summary, reminder, lang))
    return event


def render_feed(
    entries: Sequence[FeedEntry],
    calendar_title: str,
    labels: CommunityLabels,
    lang: str = i18n.DEFAULT_LANG,
    with_expert_names: bool = False,
    reminder: dt.timedelta | None = DEFAULT_REMINDER,
    refresh_interval: dt.timedelta = REFRESH_INTERVAL,
) -> bytes:
    """The feed as iCalendar bytes: same entries in, same bytes out (so ETags hold between requests)."""
    lang = i18n.parse_lang(lang)
    zone = ZoneInfo(labels.timezone)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("name", calendar_title)
    calendar.add("x-wr-calname", calendar_title)
    calendar.add("x-wr-caldesc", i18n.text("calendar_description", lang, community=labels.community))
    calendar.add("x-wr-timezone", labels.timezone)
    # icalendar writes REFRESH-INTERVAL without VALUE=DURATION, which RFC 7986 requires and ical.js needs.
    calendar.add("refresh-interval", refresh_interval, parameters={"VALUE": "DURATION"})
    # X-PUBLISHED-TTL is an unknown (text) property to icalendar: give it the duration's text form ourselves.
    calendar.add("x-published-ttl", vDuration(refresh_interval).to_ical().decode())
    if entries:
        calendar.add("last-modified", max(entry.last_modified for entry in entries).astimezone(dt.timezone.utc))
    for entry in entries:
        calendar.add_component(_event(entry, labels, zone, lang, with_expert_names, reminder))
    if entries:
        first = min(entry.assignment.date for entry in entries)
        last = max(entry.assignment.date for entry in entries)
        # A VTIMEZONE covering the events' years only: the full 1970-2038 history would add Shanghai's 1986-91 DST.
        calendar.add_missing_timezones(first_date=dt.date(first.year - 1, 1, 1), last_date=dt.date(last.year + 2, 1, 1))
    return calendar.to_ical()


def feed_etag(body: bytes) -> str:
    """A strong HTTP ETag (quoted) of a feed's bytes."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def feed_last_modified(entries: Sequence[FeedEntry], fallback: dt.datetime) -> dt.datetime:
    """The feed's Last-Modified time: its newest change, or `fallback` (the month's first publication) if empty."""
    newest = max((entry.last_modified for entry in entries), default=fallback)
    return newest.astimezone(dt.timezone.utc).replace(microsecond=0)


def http_date(moment: dt.datetime) -> str:
    """A time as an HTTP date header value (`Tue, 05 Jan 2027 00:30:00 GMT`)."""
    return email.utils.format_datetime(moment.astimezone(dt.timezone.utc), usegmt=True)


def not_modified(etag: str, last_modified: dt.datetime, if_none_match: str | None, if_modified_since: str | None) -> bool:
    """Whether a conditional GET may be answered 304 (RFC 9110: If-None-Match wins over If-Modified-Since)."""
    if if_none_match is not None:
        offered = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in offered or etag in offered
    if if_modified_since is not None:
        try:
            since = email.utils.parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        if since is None:
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=dt.timezone.utc)
        return last_modified.replace(microsecond=0) <= since
    return False
