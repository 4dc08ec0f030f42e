"""The words of each notice kind, in zh-CN (default) and English, built from assignments and community labels.

Terms (session types, half-days, dates, summaries) come from scheduler/i18n.py so a notice says a
session the same way the calendar feed does; only the notice sentences live here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from scheduler.i18n import date_text, half_day_name, parse_lang, session_type_name, text, weekday_name
from scheduler.labels import CommunityLabels
from solver.solution import Assignment


@dataclass(frozen=True)
class NoticeText:
    """A notice's subject line and body, in one language."""

    subject: str
    body: str


NOTICE_SENTENCES: dict[str, dict[str, str]] = {
    "zh-CN": {
        "greeting_expert": "{name}医生，您好：",
        "greeting_township": "{name}负责同志，您好：",
        "assignment_subject": "【下沉排班】{date} {township}",
        "assignment_expert": "您已被安排下沉：\n{session}\n如需请假或调换，请尽早联系医务科。",
        "assignment_township": "已为贵院安排专家：\n{session}",
        "reminder_subject": "【下沉提醒】{date} {township}",
        "reminder_expert": "提醒：您即将下沉\n{session}",
        "reminder_township": "提醒：专家即将到院\n{session}",
        "change_subject": "【排班变更】{date} {township}",
        "change_body": "以下安排有变更：\n原安排：{old}\n新安排：{new}",
        "cancellation_subject": "【排班取消】{date} {township}",
        "cancellation_body": "以下安排已取消：\n{session}",
        "reason": "原因：{reason}",
        "digest_subject": "【排班日报】{community} {date}",
        "digest_empty": "今日无排班变动。",
        "digest_intro": "今日排班变动（共{count}条）：",
        "request_subject": "【加诊申请】{township} {status}",
        "request_approved": "已批准",
        "request_queued": "待医务科处理",
        "request_rejected": "未能安排",
        "request_body": "贵院的加诊申请（{what}）{status}。",
        "footer": "—— {community}专家下沉排班系统",
        "login_link_subject": "【登录链接】{community}专家下沉排班",
        "login_link_body": "请用下面的链接登录（只能使用一次，{expires}前有效）：\n{url}\n如非本人申请，请忽略本消息。",
    },
    "en": {
        "greeting_expert": "Dear Dr {name},",
        "greeting_township": "Dear {name},",
        "assignment_subject": "[Rota] {date} {township}",
        "assignment_expert": "You are on the rota:\n{session}\nTo file leave or swap, contact the medical affairs office early.",
        "assignment_township": "An expert is booked for your centre:\n{session}",
        "reminder_subject": "[Reminder] {date} {township}",
        "reminder_expert": "Reminder: you are due at\n{session}",
        "reminder_township": "Reminder: an expert is coming\n{session}",
        "change_subject": "[Rota change] {date} {township}",
        "change_body": "A session has changed:\nWas: {old}\nNow: {new}",
        "cancellation_subject": "[Cancelled] {date} {township}",
        "cancellation_body": "This session is cancelled:\n{session}",
        "reason": "Reason: {reason}",
        "digest_subject": "[Daily rota digest] {community} {date}",
        "digest_empty": "No rota changes today.",
        "digest_intro": "Rota changes today ({count}):",
        "request_subject": "[Extra session request] {township}: {status}",
        "request_approved": "approved",
        "request_queued": "waiting for the medical affairs office",
        "request_rejected": "could not be scheduled",
        "request_body": "Your request for an extra session ({what}) {status}.",
        "footer": "-- {community} township rota",
        "login_link_subject": "[Login link] {community} township rota",
        "login_link_body": "Log in with this link (it works once, until {expires}):\n{url}\nIf you did not ask for it, ignore this message.",
    },
}

REQUEST_OUTCOMES = ("approved", "queued", "rejected")


def _say(key: str, lang: str, **fields: object) -> str:
    return NOTICE_SENTENCES[parse_lang(lang)][key].format(**fields)


def session_summary(assignment: Assignment, labels: CommunityLabels, lang: str, with_expert: bool = False) -> str:
    """One line saying when, where and what a session is (and who, for a township's notice)."""
    start, end = labels.half_day_windows[assignment.half_day]
    when = text(
        "when", lang,
        date=date_text(assignment.date, lang), weekday=weekday_name(assignment.date, lang),
        half_day=half_day_name(assignment.half_day, lang), start=start, end=end,
    )
    kind = session_type_name(assignment.type, lang)
    township = labels.township(assignment.township)
    if assignment.specialty:
        what = text("summary", lang, township=township, specialty=labels.specialty(assignment.specialty), session_type=kind)
    else:
        what = text("summary_supervision", lang, township=township, session_type=kind)
    if assignment.link_visit:
        what = text("summary_link_visit", lang, summary=what, mark=text("link_visit_mark", lang))
    if with_expert:
        what = text("summary_with_expert", lang, summary=what, expert=labels.expert(assignment.expert))
    return f"{when} · {what}"


def _letter(greeting: str, paragraphs: list[str], labels: CommunityLabels, lang: str) -> str:
    return "\n".join([greeting, *paragraphs, _say("footer", lang, community=labels.community)])


def _greeting(audience: str, name: str, lang: str) -> str:
    return _say("greeting_township" if audience == "township" else "greeting_expert", lang, name=name)


def _recipient_name(assignment: Assignment, labels: CommunityLabels, audience: str) -> str:
    return labels.township(assignment.township) if audience == "township" else labels.expert(assignment.expert)


def _subject(key: str, assignment: Assignment, labels: CommunityLabels, lang: str) -> str:
    day = f"{date_text(assignment.date, lang)} {half_day_name(assignment.half_day, lang)}"
    return _say(key, lang, date=day, township=labels.township(assignment.township))


def assignment_text(assignment: Assignment, labels: CommunityLabels, lang: str = "zh-CN", audience: str = "expert") -> NoticeText:
    """The notice of a new session on a published roster, for the expert or the township head."""
    with_expert = audience == "township"
    body_key = "assignment_township" if with_expert else "assignment_expert"
    paragraph = _say(body_key, lang, session=session_summary(assignment, labels, lang, with_expert))
    return NoticeText(
        _subject("assignment_subject", assignment, labels, lang),
        _letter(_greeting(audience, _recipient_name(assignment, labels, audience), lang), [paragraph], labels, lang),
    )


def reminder_text(assignment: Assignment, labels: CommunityLabels, lang: str = "zh-CN", audience: str = "expert") -> NoticeText:
    """The reminder before a session."""
    with_expert = audience == "township"
    body_key = "reminder_township" if with_expert else "reminder_expert"
    paragraphs = [_say(body_key, lang, session=session_summary(assignment, labels, lang, with_expert))]
    if assignment.link_visit and not with_expert:
        paragraphs.append(text("link_visit_note", lang))
    return NoticeText(
        _subject("reminder_subject", assignment, labels, lang),
        _letter(_greeting(audience, _recipient_name(assignment, labels, audience), lang), paragraphs, labels, lang),
    )


def change_text(
    old: Assignment, new: Assignment, labels: CommunityLabels, lang: str = "zh-CN", audience: str = "expert"
) -> NoticeText:
    """The notice that a session moved (another day, township or expert), old and new side by side."""
    with_expert = audience == "township"
    paragraph = _say(
        "change_body", lang,
        old=session_summary(old, labels, lang, with_expert), new=session_summary(new, labels, lang, with_expert),
    )
    return NoticeText(
        _subject("change_subject", new, labels, lang),
        _letter(_greeting(audience, _recipient_name(new, labels, audience), lang), [paragraph], labels, lang),
    )


def cancellation_text(
    assignment: Assignment, labels: CommunityLabels, lang: str = "zh-CN", audience: str = "expert", reason: str | None = None
) -> NoticeText:
    """The notice that a session is cancelled, with the reason when there is one."""
    paragraphs = [_say("cancellation_body", lang, session=session_summary(assignment, labels, lang, audience == "township"))]
    if reason:
        paragraphs.append(_say("reason", lang, reason=reason))
    return NoticeText(
        _subject("cancellation_subject", assignment, labels, lang),
        _letter(_greeting(audience, _recipient_name(assignment, labels, audience), lang), paragraphs, labels, lang),
    )


def digest_text(day: dt.date, lines: list[str], labels: CommunityLabels, lang: str = "zh-CN") -> NoticeText:
    """The office's daily digest: one line per change of the day (empty says so)."""
    if lines:
        body = "\n".join([_say("digest_intro", lang, count=len(lines)), *(f"- {line}" for line in lines)])
    else:
        body = _say("digest_empty", lang)
    return NoticeText(
        _say("digest_subject", lang, community=labels.community, date=date_text(day, lang)),
        "\n".join([body, _say("footer", lang, community=labels.community)]),
    )


def request_update_text(
    township_id: str,
    what: str,
    outcome: str,
    labels: CommunityLabels,
    lang: str = "zh-CN",
    reason: str | None = None,
    assignment: Assignment | None = None,
) -> NoticeText:
    """The answer to a township head's extra-session request: approved (with the session), queued or rejected (with why)."""
    if outcome not in REQUEST_OUTCOMES:
        raise ValueError(f"outcome must be one of {', '.join(REQUEST_OUTCOMES)} (got {outcome!r})")
    status = _say(f"request_{outcome}", lang)
    township = labels.township(township_id)
    paragraphs = [_say("request_body", lang, what=what, status=status)]
    if assignment is not None:
        paragraphs.append(session_summary(assignment, labels, lang, with_expert=True))
    if reason:
        paragraphs.append(_say("reason", lang, reason=reason))
    return NoticeText(
        _say("request_subject", lang, township=township, status=status),
        _letter(_greeting("township", township, lang), paragraphs, labels, lang),
    )


def login_link_text(audience: str, name: str, url: str, expires: str, labels: CommunityLabels, lang: str = "zh-CN") -> NoticeText:
    """The notice carrying a one-time login link to a township head or an expert (`expires`: when it stops working, as text)."""
    return NoticeText(
        _say("login_link_subject", lang, community=labels.community),
        _letter(_greeting(audience, name, lang), [_say("login_link_body", lang, url=url, expires=expires)], labels, lang),
    )
