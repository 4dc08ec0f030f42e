"""A job's failure as data, for the process that waits for the job: the same error type on either side of the queue.

A job's own failure is its row's state and readable `error`; a failure the caller must act on by its
type is also kept as data (`jobs.failure`). Today that is one type: a solve refused by hard rules
(`RuleBroken`, e.g. a re-plan that cannot keep a pin the office set), which the event worker fails at
once as a pin clash instead of retrying it like a lost worker or a database away. Celery plays no part
in this: the task returns nothing the caller reads; the job row carries what happened.
"""

from __future__ import annotations

from typing import Any

from scheduler.roster_rules import RuleBreak, RuleBroken

RULE_BROKEN = "rule_broken"


def failure_of(error: BaseException) -> dict[str, Any] | None:
    """What a job's row keeps of an error its waiting caller must tell apart by type (None: only its message matters)."""
    if isinstance(error, RuleBroken):
        return {"type": RULE_BROKEN, "breaks": [b.as_json() for b in error.breaks]}
    return None


def error_of(failure: dict[str, Any] | None) -> Exception | None:
    """The error a job's `failure` stands for, as the caller would have caught it had the job run in its process."""
    if not failure or failure.get("type") != RULE_BROKEN:
        return None
    return RuleBroken([RuleBreak.from_json(b) for b in failure.get("breaks") or ()])
