"""Events: every change that can affect a month with a published roster, recorded with the change and processed by one worker.

The package, by what each part owns:
- `registry`: the event kinds (`EventKind`, `@register`, `kind_of`, `kind_label`); the worker and the pages know kinds only through it;
- `kinds/`: one module per kind (leave, closure, reopen, request, swap and the standing-data kinds), each its typed payload, labels and hooks;
- `outbox`: the `events` table, `record_event` in the caller's transaction, reads, lists and the office's retry;
- `standing_changes`: a standing-data edit as the events its changes call for;
- `recheck`: a month's latest roster against the current standing data;
- `notices`: who is told what about a roster change;
- `worker`: ordering, batching, claiming, the re-plan, notices and retries (`process_pending`, `BackgroundWorker`).
"""

from scheduler.events import kinds  # noqa: F401  (registers every kind)
from scheduler.events.notices import PlannedNotice, cause_of, enqueue_change_notices, notices_for_diff, roster_changes
from scheduler.events.outbox import (
    EVENT_STATUSES,
    Event,
    EventView,
    get_event,
    list_events,
    month_events,
    pending_count,
    record,
    record_event,
    retry_event,
)
from scheduler.events.registry import KINDS, EventKind, event_summary, kind_label, kind_of, register
from scheduler.events.standing_changes import record_standing_changes
from scheduler.events.worker import (
    BackgroundWorker,
    StillBroken,
    backoff_delay,
    deliver_notices,
    next_batch,
    process_pending,
    recover_interrupted,
    start_background_worker,
)

EVENT_KINDS = tuple(KINDS)

__all__ = [
    "EVENT_KINDS",
    "EVENT_STATUSES",
    "KINDS",
    "BackgroundWorker",
    "Event",
    "EventKind",
    "EventView",
    "PlannedNotice",
    "StillBroken",
    "backoff_delay",
    "cause_of",
    "deliver_notices",
    "enqueue_change_notices",
    "event_summary",
    "get_event",
    "kind_label",
    "kind_of",
    "list_events",
    "month_events",
    "next_batch",
    "notices_for_diff",
    "pending_count",
    "process_pending",
    "record",
    "record_event",
    "record_standing_changes",
    "recover_interrupted",
    "register",
    "retry_event",
    "roster_changes",
    "start_background_worker",
]
