"""Structured logs: every record is one JSON line with its extra fields."""

from __future__ import annotations

import json
import logging

from config.logging import JsonFormatter


def test_a_record_is_one_json_line_with_its_extra_fields():
    record = logging.LogRecord("scheduler.events", logging.INFO, __file__, 1, "processed %d events", (3,), None)
    record.month = "2027-03"
    record.lag_seconds = 1.5
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["message"] == "processed 3 events"
    assert entry["level"] == "INFO" and entry["logger"] == "scheduler.events"
    assert entry["month"] == "2027-03" and entry["lag_seconds"] == 1.5
    assert entry["time"].endswith("+00:00")


def test_an_exception_is_kept_in_the_line():
    try:
        raise ValueError("bad roster")
    except ValueError:
        import sys

        record = logging.LogRecord("api", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    entry = json.loads(JsonFormatter().format(record))
    assert "ValueError: bad roster" in entry["exception"]
