"""``/metrics``: Prometheus exposition of the service's metrics (its own registry)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from energy_data_service.api.deps import LeaderDep, MetricsAccessDep, MetricsDep

router = APIRouter(tags=["metrics"])


@router.get(
    "/metrics",
    summary="Prometheus metrics (behind the API key unless API__METRICS_PUBLIC)",
    response_class=Response,
    dependencies=[MetricsAccessDep],
)
async def metrics(leader: LeaderDep, metrics: MetricsDep) -> Response:
    metrics.scheduler_leader.set(1 if leader.is_leader else 0)
    return metrics.exposition()
