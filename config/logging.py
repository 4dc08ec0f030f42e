"""Structured logs: one JSON object per line, with any `extra={...}` fields of the record kept, and no feed token or login link.

A calendar feed's URL is its only secret (`/feeds/<token>.ics`, wherever the feed routes are mounted:
`/feeds/...`, `/c/<community>/feeds/...`), and uvicorn's access log writes every request path. Every
record that reaches the service's handler, and every record of the `uvicorn.access` logger whatever
handler it goes to, has the token in its message, arguments and extra fields replaced by
`[redacted:<first 8 hex of its sha256>]`: the same digest the `feed_tokens` table stores, so an
operator can still tell which feed a line is about without the line opening it. A one-time login link
(`/c/<community>/login/link/<token>`) is a secret in a path too and is redacted the same way.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
from collections.abc import Mapping
from typing import Any

# Attributes every LogRecord has; anything else on a record came from `extra=` and is kept.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


# "/feeds/" (or "/login/link/") and the path segment after it, up to the next delimiter of a URL or a log line.
_FEED_SEGMENT = re.compile(r"(/feeds/|/login/link/)([^/?#\s\"'<>]+)", re.IGNORECASE)
_SECRET_PATHS = ("/feeds/", "/login/link/")
REDACTED_PREFIX = "[redacted:"
ACCESS_LOGGER = "uvicorn.access"


def _redacted_segment(match: re.Match[str]) -> str:
    segment = match.group(2)
    if segment.startswith(REDACTED_PREFIX):
        return match.group(0)
    token, suffix = (segment[:-4], segment[-4:]) if segment.lower().endswith(".ics") else (segment, "")
    fingerprint = hashlib.sha256(token.encode("utf-8")).hexdigest()[:8]
    return f"{match.group(1)}{REDACTED_PREFIX}{fingerprint}]{suffix}"


def redact_feed_tokens(text: str) -> str:
    """The text with the token of every feed path (`.../feeds/<token>.ics`) and login link (`.../login/link/<token>`) in it replaced by a fingerprint."""
    lowered = text.lower()
    return _FEED_SEGMENT.sub(_redacted_segment, text) if any(path in lowered for path in _SECRET_PATHS) else text


def _redacted(value: Any) -> Any:
    return redact_feed_tokens(value) if isinstance(value, str) else value


class FeedTokenRedaction(logging.Filter):
    """Rewrite a record's message, arguments and extra fields so that no feed token is left in them (never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Each argument first, keeping the shape: uvicorn's access formatter unpacks (client, method, path, version, status).
        if isinstance(record.args, tuple):
            record.args = tuple(_redacted(value) for value in record.args)
        elif isinstance(record.args, Mapping):
            record.args = {name: _redacted(value) for name, value in record.args.items()}
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed record: logging reports it itself
            message = None
        if message is not None and redact_feed_tokens(message) != message:
            # A token in the template, or one that only formatting puts into a path: keep the finished text.
            record.msg, record.args = redact_feed_tokens(message), ()
        for name, value in list(vars(record).items()):
            if name not in _STANDARD and isinstance(value, str):
                setattr(record, name, redact_feed_tokens(value))
        return True


class JsonFormatter(logging.Formatter):
    """Format a record as one line of JSON: time (UTC, ISO 8601), level, logger, message, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in vars(record).items():
            if name not in _STANDARD and not name.startswith("_"):
                entry[name] = value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
        if record.exc_info:
            entry["exception"] = redact_feed_tokens(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str | int = "INFO") -> None:
    """Send every logger's records to stderr as JSON lines (the service's and the worker's logs), feed tokens redacted."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(FeedTokenRedaction())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Also on the access logger itself: its records are redacted even when uvicorn gives it handlers of its own.
    access = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(existing, FeedTokenRedaction) for existing in access.filters):
        access.addFilter(FeedTokenRedaction())
