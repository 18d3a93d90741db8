"""``/metrics``: Prometheus exposition of the process's metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from energy_data_service.api.deps import LeaderDep, MetricsAccessDep
from energy_data_service.api.metrics import SCHEDULER_LEADER

router = APIRouter(tags=["metrics"])


@router.get(
    "/metrics",
    summary="Prometheus metrics (behind the API key unless API__METRICS_PUBLIC)",
    response_class=Response,
    dependencies=[MetricsAccessDep],
)
async def metrics(leader: LeaderDep) -> Response:
    SCHEDULER_LEADER.set(1 if leader.is_leader else 0)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
