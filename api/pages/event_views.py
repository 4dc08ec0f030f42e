"""The office month page's list of changes: for each event that bears on the month, what it was and what it did there.

What it did is read from the event's outcome for the month (the worker writes it): the check of the
latest roster against the new data, and the version it led to with the diff counts.
"""

from __future__ import annotations

from typing import Any

from scheduler.reason_text import rule_name
from api.pages.web import SERVICE_ZONE
from api.pages.words import page_word
from scheduler.events import EventView
from scheduler.i18n import half_day_name


def _did(entry: dict[str, Any], lang: str) -> list[str]:
    lines = []
    if entry.get("broken"):
        lines.append(page_word("event_broken", lang, count=entry["broken"]))
    action = entry.get("action")
    if entry.get("version"):
        status = page_word("status_published" if entry.get("status", "published") == "published" else "status_draft", lang)
        lines.append(page_word(
            "event_action_replanned", lang, version=entry["version"], status=status,
            added=entry.get("added", 0), removed=entry.get("removed", 0), moved=entry.get("moved", 0),
        ))
    elif action in ("valid", "unchanged", "no roster"):
        lines.append(page_word("event_action_" + action.replace(" ", "_"), lang))
    if entry.get("published_broken"):
        lines.append(page_word("event_published_broken", lang, count=entry["published_broken"]))
    return lines


def _error(view: EventView, lang: str) -> str:
    """A failed event's reason: a clash with pinned sessions in the page's words, else the error's first line."""
    if view.status != "failed":
        return ""
    clashes = (view.outcome or {}).get("pin_clash")
    if clashes is not None:
        sessions = page_word("pin_clash_separator", lang).join(
            page_word("event_pin_clash_session", lang, expert=c["expert"], township=c["township"], date=c["date"],
                      half_day=half_day_name(c["half_day"], lang), rule=rule_name(c["rule"], lang))
            for c in clashes
        )
        return page_word("event_pin_clash", lang, sessions=sessions or "—")
    return (view.last_error or "").splitlines()[0] if view.last_error else ""


def event_rows(views: list[EventView], month: str, lang: str) -> list[dict[str, Any]]:
    """One row per event: id, kind label, summary, status word, when, and what it did to the month."""
    rows = []
    for view in views:
        entry = ((view.outcome or {}).get("months") or {}).get(month) or {}
        replanned = ((view.outcome or {}).get("replanned") or {}).get(month)
        if not entry and replanned:
            entry = {"version": replanned}  # an event processed before outcomes named their month's check
        rows.append({
            "id": view.id,
            "kind": view.kind,
            "label": view.label(lang),
            "summary": view.summary(lang),
            "status": view.status,
            "status_text": page_word("event_status_" + view.status, lang),
            "created_text": view.created_at.astimezone(SERVICE_ZONE).strftime("%Y-%m-%d %H:%M") if view.created_at else "",
            "did": _did(entry, lang) if view.status == "done" else [],
            "error": _error(view, lang),
        })
    return rows
