"""Calendar feeds: which events each scope sees across published versions, and how two real parsers read them.

The feeds are parsed twice: by the `icalendar` package and by Mozilla's ical.js under node (the parser in
Thunderbird), which the fixture installs into tests/js/node_modules from tests/js/package-lock.json if missing.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from scheduler import feeds
from scheduler.feeds import (
    FeedEntry,
    PublishedVersion,
    community_scope,
    department_scope,
    expert_scope,
    feed_entries,
    feed_entries_for,
    feed_etag,
    feed_last_modified,
    http_date,
    not_modified,
    render_feed,
    township_scope,
)
from scheduler.labels import CommunityLabels
from scheduler.scenario.load import load_scenario
from solver.solution import Assignment

SHANGHAI = ZoneInfo("Asia/Shanghai")
JS_DIR = Path(__file__).resolve().parents[1] / "js"
REPO = Path(__file__).resolve().parents[2]

LABELS = CommunityLabels(
    community="全南县总医院",
    timezone="Asia/Shanghai",
    township_names={"nanjing": "南迳镇卫生院", "pitou": "陂头镇卫生院"},
    travel_minutes={"nanjing": 40, "pitou": 25},
    specialty_names={"cardio": "心血管内科", "paeds": "儿科"},
    expert_names={"E01": "李海林", "E07": "王芳", "E08": "张伟", "E09": "陈静"},
    department_names={"cardio": "心内科"},
)


def at(day: int, month: int = 1, year: int = 2027) -> dt.datetime:
    return dt.datetime(year, month, day, 9, 0, tzinfo=SHANGHAI)


def session(assignment_id: str, day: int, half_day: str = "am", township: str = "nanjing", expert: str = "E07", **rest) -> Assignment:
    return Assignment(
        date=dt.date(2027, 1, day),
        half_day=half_day,
        township=township,
        type=rest.get("type", "clinic"),
        specialty=rest.get("specialty", "cardio"),
        expert=expert,
        link_visit=rest.get("link_visit", False),
        id=assignment_id,
    )


# Three published versions of January 2027:
#   keep   never changes;               move  changes date (v2) then half-day (v3);
#   remove is dropped in v3;            hand  goes from E07 to E08 in v2.
V1 = PublishedVersion(at(20, 12, 2026), [session("keep", 5), session("move", 6), session("remove", 7, township="pitou"), session("hand", 8)])
V2 = PublishedVersion(at(2), [session("keep", 5), session("move", 12), session("remove", 7, township="pitou"), session("hand", 8, expert="E08")])
V3 = PublishedVersion(at(4), [session("keep", 5), session("move", 12, half_day="pm"), session("hand", 8, expert="E08")])
HISTORY = [V1, V2, V3]


def by_id(entries: list[FeedEntry]) -> dict[str, tuple[int, str]]:
    return {entry.assignment.id: (entry.sequence, entry.status) for entry in entries}


# ---------------------------------------------------------------- which events, which SEQUENCE


def test_sequence_rises_with_each_published_change_and_a_removed_session_is_cancelled():
    entries = feed_entries(HISTORY, now=at(5))
    assert by_id(entries) == {
        "keep": (0, "CONFIRMED"),
        "move": (2, "CONFIRMED"),
        "remove": (1, "CANCELLED"),
        "hand": (1, "CONFIRMED"),
    }
    move = next(e for e in entries if e.assignment.id == "move")
    assert (move.assignment.date, move.assignment.half_day) == (dt.date(2027, 1, 12), "pm")
    assert move.last_modified == V3.published_at
    removed = next(e for e in entries if e.assignment.id == "remove")
    assert removed.assignment.township == "pitou"  # the last content it had
    assert removed.last_modified == V3.published_at


def test_first_publication_is_sequence_zero_for_everything():
    assert {seq for seq, _ in by_id(feed_entries([V1], now=at(1))).values()} == {0}


def test_a_cancellation_is_kept_thirty_days_then_dropped():
    # "remove" was cancelled by V3 (Jan 4th): 30 days later is Feb 3rd.
    assert "remove" in by_id(feed_entries(HISTORY, now=at(3, 2) - dt.timedelta(hours=1)))
    assert "remove" not in by_id(feed_entries(HISTORY, now=at(3, 2)))
    assert "remove" not in by_id(feed_entries(HISTORY, now=at(20, 2)))
    assert "remove" in by_id(feed_entries(HISTORY, now=at(20, 2), cancelled_days=60))


def test_a_session_handed_to_another_expert_is_cancelled_for_the_old_one_and_new_for_the_other():
    old = by_id(feed_entries_for(expert_scope("E07"), HISTORY, now=at(5)))
    new = by_id(feed_entries_for(expert_scope("E08"), HISTORY, now=at(5)))
    assert old == {"keep": (0, "CONFIRMED"), "move": (2, "CONFIRMED"), "remove": (1, "CANCELLED"), "hand": (1, "CANCELLED")}
    assert new == {"hand": (1, "CONFIRMED")}
    # The old expert's copy keeps the content they knew (their own name), not the new expert's.
    handed = next(e for e in feed_entries_for(expert_scope("E07"), HISTORY, now=at(5)) if e.assignment.id == "hand")
    assert handed.assignment.expert == "E07"
    assert handed.last_modified == V2.published_at
    # The old expert's cancellation expires 30 days after V2 (Jan 2nd).
    assert "hand" not in by_id(feed_entries_for(expert_scope("E07"), HISTORY, now=at(2, 2)))


def test_township_and_department_scopes():
    assert by_id(feed_entries_for(township_scope("pitou"), HISTORY, now=at(5))) == {"remove": (1, "CANCELLED")}
    assert set(by_id(feed_entries_for(township_scope("nanjing"), HISTORY, now=at(5)))) == {"keep", "move", "hand"}
    # The department holds both experts, so the hand-over stays inside it: one confirmed event, not a cancellation.
    department = by_id(feed_entries_for(department_scope("cardio", ["E07", "E08"]), HISTORY, now=at(5)))
    assert department["hand"] == (1, "CONFIRMED")
    assert by_id(feed_entries_for(department_scope("paeds", ["E09"]), HISTORY, now=at(5))) == {}
    assert by_id(feed_entries_for(community_scope(), HISTORY, now=at(5))) == by_id(feed_entries(HISTORY, now=at(5)))


def test_moving_into_another_township_cancels_it_in_the_first_townships_feed():
    moved = PublishedVersion(at(3), [session("keep", 5, township="pitou")])
    history = [PublishedVersion(at(1), [session("keep", 5)]), moved]
    assert by_id(feed_entries_for(township_scope("nanjing"), history, now=at(5))) == {"keep": (1, "CANCELLED")}
    assert by_id(feed_entries_for(township_scope("pitou"), history, now=at(5))) == {"keep": (1, "CONFIRMED")}


def test_a_session_that_comes_back_outranks_its_cancellation():
    history = [
        PublishedVersion(at(1), [session("back", 9)]),
        PublishedVersion(at(2), []),
        PublishedVersion(at(3), [session("back", 9)]),
    ]
    assert by_id(feed_entries(history[:2], now=at(5))) == {"back": (1, "CANCELLED")}
    assert by_id(feed_entries(history, now=at(5))) == {"back": (2, "CONFIRMED")}


def test_an_experts_feed_spans_months():
    february = [PublishedVersion(at(20), [Assignment(dt.date(2027, 2, 3), "am", "pitou", "clinic", "cardio", "E07", False, "feb1")])]
    entries = feeds.feed_entries_across_months(expert_scope("E07"), [february, HISTORY], now=at(25))
    assert [e.assignment.id for e in entries] == ["keep", "remove", "hand", "move", "feb1"]  # in date order


def test_history_must_be_oldest_first_and_zoned():
    with pytest.raises(ValueError, match="oldest first"):
        feed_entries([V2, V1], now=at(5))
    with pytest.raises(ValueError, match="time zone"):
        feed_entries([(dt.datetime(2027, 1, 1), [])], now=at(5))
    assert feed_entries([], now=at(5)) == []


def test_companions_come_from_the_latest_version():
    history = [
        PublishedVersion(at(1), [session("mine", 5), session("theirs", 5, half_day="pm", expert="E09", specialty="paeds")]),
    ]
    mine = next(e for e in feed_entries_for(expert_scope("E07"), history, now=at(2)))
    assert [c.id for c in mine.companions] == ["theirs"]
    description = feeds.event_description(mine, LABELS)
    assert "陈静（儿科 坐诊，下午）" in description
    assert "同车前往，单程约40分钟" in description
    alone = feed_entries([PublishedVersion(at(1), [session("solo", 6)])], now=at(2))[0]
    assert "当天仅您一人前往南迳镇卫生院" in feeds.event_description(alone, LABELS)


# ---------------------------------------------------------------- rendering, read back by the icalendar package


def expert_feed(lang: str = "zh-CN", **options) -> bytes:
    entries = feed_entries_for(expert_scope("E07"), HISTORY, now=at(5))
    title = feeds.calendar_name(expert_scope("E07"), LABELS, lang)
    return render_feed(entries, title, LABELS, lang, **options)


def test_feed_reads_back_with_icalendar():
    calendar = Calendar.from_ical(expert_feed())
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert str(calendar["NAME"]) == "王芳 · 专家下沉排班" == str(calendar["X-WR-CALNAME"])
    assert calendar["REFRESH-INTERVAL"].params["VALUE"] == "DURATION"
    assert calendar["REFRESH-INTERVAL"].dt == dt.timedelta(hours=1)
    assert str(calendar["X-PUBLISHED-TTL"]) == "PT1H"
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Asia/Shanghai"]
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {"keep@township-rota", "move@township-rota", "remove@township-rota", "hand@township-rota"}
    keep = events["keep@township-rota"]
    assert str(keep["SUMMARY"]) == "南迳镇卫生院 · 心血管内科 坐诊"
    assert str(keep["LOCATION"]) == "南迳镇卫生院"
    assert str(keep["STATUS"]) == "CONFIRMED"
    assert keep["DTSTART"].params["TZID"] == "Asia/Shanghai"
    assert keep["DTSTART"].dt == dt.datetime(2027, 1, 5, 8, 30, tzinfo=SHANGHAI)
    assert keep["DTSTART"].dt.astimezone(dt.timezone.utc) == dt.datetime(2027, 1, 5, 0, 30, tzinfo=dt.timezone.utc)
    assert keep["DTEND"].dt == dt.datetime(2027, 1, 5, 11, 30, tzinfo=SHANGHAI)
    [alarm] = keep.walk("VALARM")
    assert str(alarm["ACTION"]) == "DISPLAY" and alarm["TRIGGER"].dt == -dt.timedelta(days=1)
    move = events["move@township-rota"]
    assert int(move["SEQUENCE"]) == 2
    assert move["DTSTART"].dt == dt.datetime(2027, 1, 12, 14, 30, tzinfo=SHANGHAI)
    for cancelled in ("remove@township-rota", "hand@township-rota"):
        assert str(events[cancelled]["STATUS"]) == "CANCELLED"
        assert str(events[cancelled]["SUMMARY"]).startswith("已取消：")
        assert events[cancelled].walk("VALARM") == []
    assert str(events["remove@township-rota"]["LOCATION"]) == "陂头镇卫生院"


def test_reminder_is_configurable_and_can_be_off():
    calendar = Calendar.from_ical(expert_feed(reminder=dt.timedelta(minutes=90)))
    alarm = next(e for e in calendar.walk("VEVENT") if str(e["STATUS"]) == "CONFIRMED").walk("VALARM")[0]
    assert alarm["TRIGGER"].dt == -dt.timedelta(minutes=90)
    assert "90分钟后" in str(alarm["DESCRIPTION"])
    assert Calendar.from_ical(expert_feed(reminder=None)).walk("VALARM") == []


def test_supervision_and_link_visits_are_named_and_marked():
    supervision = session("sup", 5, type="supervision", specialty=None, expert="E01", link_visit=True)
    clinic_visit = session("visit", 6, expert="E01", link_visit=True)
    entries = feed_entries([PublishedVersion(at(1), [supervision, clinic_visit])], now=at(2))
    summaries = {str(e["UID"]): str(e["SUMMARY"]) for e in Calendar.from_ical(render_feed(entries, "x", LABELS)).walk("VEVENT")}
    assert summaries == {"sup@township-rota": "南迳镇卫生院 · 挂点督导", "visit@township-rota": "南迳镇卫生院 · 心血管内科 坐诊（挂点）"}
    with_names = Calendar.from_ical(render_feed(entries, "x", LABELS, with_expert_names=True))
    assert {str(e["SUMMARY"]) for e in with_names.walk("VEVENT")} == {"南迳镇卫生院 · 挂点督导 · 李海林", "南迳镇卫生院 · 心血管内科 坐诊（挂点） · 李海林"}


def test_english_titles():
    calendar = Calendar.from_ical(expert_feed(lang="en"))
    assert str(calendar["NAME"]) == "王芳 · township rota"
    summaries = {str(e["UID"]): str(e["SUMMARY"]) for e in calendar.walk("VEVENT")}
    assert summaries["keep@township-rota"] == "南迳镇卫生院 · 心血管内科 clinic"
    assert summaries["remove@township-rota"] == "Cancelled: 陂头镇卫生院 · 心血管内科 clinic"
    description = str(next(e for e in calendar.walk("VEVENT") if str(e["UID"]) == "keep@township-rota")["DESCRIPTION"])
    assert description.startswith("Tuesday 2027-01-05, morning 08:30–11:30")
    assert "About 40 minutes each way." in description
    with pytest.raises(ValueError, match="unsupported language 'fr'"):
        expert_feed(lang="fr")


def test_same_entries_same_bytes_and_etag_and_conditional_get():
    first, second = expert_feed(), expert_feed()
    assert first == second
    etag = feed_etag(first)
    assert etag.startswith('"') and etag.endswith('"')
    assert feed_etag(expert_feed(lang="en")) != etag
    entries = feed_entries_for(expert_scope("E07"), HISTORY, now=at(5))
    last_modified = feed_last_modified(entries, fallback=V1.published_at)
    assert last_modified == V3.published_at.astimezone(dt.timezone.utc)
    assert http_date(last_modified) == "Mon, 04 Jan 2027 01:00:00 GMT"
    assert not_modified(etag, last_modified, if_none_match=etag, if_modified_since=None)
    assert not_modified(etag, last_modified, if_none_match=f'W/"other", {etag}', if_modified_since=None)
    assert not not_modified(etag, last_modified, if_none_match='"other"', if_modified_since=http_date(last_modified))
    assert not_modified(etag, last_modified, if_none_match=None, if_modified_since=http_date(last_modified))
    assert not not_modified(etag, last_modified, if_none_match=None, if_modified_since="Sun, 03 Jan 2027 01:00:00 GMT")
    assert not not_modified(etag, last_modified, if_none_match=None, if_modified_since="not a date")
    assert not not_modified(etag, last_modified, if_none_match=None, if_modified_since=None)
    assert feed_last_modified([], fallback=V1.published_at) == V1.published_at.astimezone(dt.timezone.utc)


def test_an_empty_feed_is_still_a_valid_calendar():
    body = render_feed([], "空", LABELS)
    calendar = Calendar.from_ical(body)
    assert calendar.walk("VEVENT") == [] and str(calendar["NAME"]) == "空"


def test_labels_from_the_example_scenario_render_real_names():
    scenario = load_scenario(REPO / "config" / "examples" / "quannan.yaml")
    labels = CommunityLabels.from_scenario(scenario)
    township = scenario.townships[0]
    expert = next(e for e in scenario.experts if e.specialties)
    assignment = Assignment(dt.date(2027, 1, 5), "pm", township.id, "clinic", expert.specialties[0], expert.id, False, "x1")
    entry = feed_entries([PublishedVersion(at(1), [assignment])], now=at(2))[0]
    event = Calendar.from_ical(render_feed([entry], "t", labels)).walk("VEVENT")[0]
    specialty = next(s.name for s in scenario.specialties if s.code == expert.specialties[0])
    assert str(event["SUMMARY"]) == f"{township.name} · {specialty} 坐诊"
    start, end = scenario.half_days.pm.start, scenario.half_days.pm.end
    assert event["DTSTART"].dt.strftime("%H:%M") == start and event["DTEND"].dt.strftime("%H:%M") == end
    assert feeds.calendar_name(expert_scope(expert.id), labels) == f"{expert.name} · 专家下沉排班"


# ---------------------------------------------------------------- read back by Mozilla's ical.js


@pytest.fixture(scope="session")
def ical_js() -> Path:
    """Path of tests/js/parse_ics.js with ical.js installed next to it (npm ci from the lock file if missing)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    assert node and npm, "node and npm are needed to check feeds with ical.js (node 20 is expected on the test machine)"
    if not (JS_DIR / "node_modules" / "ical.js" / "package.json").exists():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--prefix", str(JS_DIR)], check=True, cwd=JS_DIR, timeout=300)
    return JS_DIR / "parse_ics.js"


def parse_with_ical_js(script: Path, body: bytes) -> dict:
    finished = subprocess.run(["node", str(script)], input=body, capture_output=True, check=False, timeout=60)
    assert finished.returncode == 0, finished.stderr.decode()
    return json.loads(finished.stdout)


def test_ical_js_reads_the_feed_as_a_calendar_app_would(ical_js):
    parsed = parse_with_ical_js(ical_js, expert_feed())
    assert parsed["name"] == "王芳 · 专家下沉排班" == parsed["x_wr_calname"]
    assert parsed["method"] == "PUBLISH"
    assert parsed["refresh_interval"] == {"type": "duration", "value": "PT1H", "seconds": 3600}
    assert parsed["published_ttl"]["value"] == "PT1H"
    assert parsed["timezones"] == ["Asia/Shanghai"]
    events = {e["uid"]: e for e in parsed["events"]}
    assert {uid: (e["sequence"], e["status"]) for uid, e in events.items()} == {
        "keep@township-rota": (0, "CONFIRMED"),
        "move@township-rota": (2, "CONFIRMED"),
        "remove@township-rota": (1, "CANCELLED"),
        "hand@township-rota": (1, "CANCELLED"),
    }
    keep = events["keep@township-rota"]
    assert keep["summary"] == "南迳镇卫生院 · 心血管内科 坐诊"
    assert keep["location"] == "南迳镇卫生院"
    assert keep["timezone"] == "Asia/Shanghai"
    assert keep["start"] == "2027-01-05T08:30:00"
    assert keep["start_utc"] == "2027-01-05T00:30:00.000Z"
    assert keep["end_utc"] == "2027-01-05T03:30:00.000Z"
    assert keep["alarms"] == [{"action": "DISPLAY", "trigger": "-P1D"}]
    # Long Chinese lines are folded in the file; ical.js must get them back whole.
    assert keep["description"] == "2027年1月5日（星期二）上午 08:30–11:30\n当天仅您一人前往南迳镇卫生院。\n单程约40分钟。"
    assert events["move@township-rota"]["start_utc"] == "2027-01-12T06:30:00.000Z"
    assert events["remove@township-rota"]["alarms"] == []


def test_ical_js_sees_the_other_expert_gain_the_handed_over_session(ical_js):
    entries = feed_entries_for(expert_scope("E08"), HISTORY, now=at(5))
    parsed = parse_with_ical_js(ical_js, render_feed(entries, feeds.calendar_name(expert_scope("E08"), LABELS, "en"), LABELS, "en"))
    assert parsed["name"] == "张伟 · township rota"
    assert [(e["uid"], e["sequence"], e["status"], e["summary"]) for e in parsed["events"]] == [
        ("hand@township-rota", 1, "CONFIRMED", "南迳镇卫生院 · 心血管内科 clinic")
    ]


def test_ical_js_would_not_know_the_refresh_interval_without_value_duration(ical_js):
    # Why render_feed adds VALUE=DURATION: without it ical.js reads REFRESH-INTERVAL as an unknown text value.
    body = expert_feed().replace(b"REFRESH-INTERVAL;VALUE=DURATION:", b"REFRESH-INTERVAL:")
    assert parse_with_ical_js(ical_js, body)["refresh_interval"]["type"] != "duration"
