"""GET /metrics: Prometheus exposition of the service (event lag and outcomes, job runs, notices, solve times)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.deps import Factory
from scheduler.metrics import refresh_from_store, render_metrics

router = APIRouter(tags=["service"])


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
def metrics(factory: Factory) -> Response:
    """The metrics in Prometheus text format; the backlog and notice gauges are read from the database at each scrape."""
    refresh_from_store(factory)
    body, content_type = render_metrics()
    return Response(content=body, media_type=content_type)
