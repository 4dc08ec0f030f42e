"""How the event worker runs its solves (a month's re-plan, a request's settlement): here, unless told otherwise.

With a broker (ROTA_BROKER_URL) the leader points these at scheduler.tasks.solves (`use`), so the solve
runs on a `rota worker` process while the event worker keeps its order, claims and notices. The events
package never imports scheduler.tasks: the arrow runs leader -> tasks -> flows, not back into events.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from config.settings import Settings
from scheduler import flows

Factory = sessionmaker[Session]


def replan_here(factory: Factory, community_id: int, month: str, *, cause: str, status: str | None = None, settings: Settings | None = None) -> int | None:
    """flows.replan in this process: the new version, or None when nothing changed."""
    result = flows.replan(factory, community_id, month, cause=cause, status=status)
    return result[0] if result else None


def settle_here(factory: Factory, community_id: int, request_id: int, *, settings: Settings | None = None) -> str:
    """flows.settle_request in this process: the request's state afterwards."""
    return flows.settle_request(factory, community_id, request_id)


replan_month: Callable[..., int | None] = replan_here
settle_request: Callable[..., str] = settle_here


def use(replan: Callable[..., int | None] | None = None, settle: Callable[..., str] | None = None) -> None:
    """Run the event worker's solves with these (None = here again)."""
    global replan_month, settle_request
    replan_month = replan or replan_here
    settle_request = settle or settle_here
