"""Health, status and metrics: `/health`, `/api/v1/status`, `/api/v1/metrics`, `/metrics`."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from pusher_api.deps import Caller, StoreDep, authorize

router = APIRouter(tags=["health"])


@router.get("/health")
async def health(request: Request) -> dict[str, Any]:
    """Liveness: the process answers. `kafka_connected` tells whether commands can be published,
    `store_connected` whether their status can be recorded and read; either false is
    `degraded`."""
    publisher = request.app.state.dispatcher.publisher
    store_connected = await request.app.state.store.ping()
    return {
        "status": "ok" if publisher.connected and store_connected else "degraded",
        "kafka_connected": publisher.connected,
        "store_connected": store_connected,
    }


@router.get("/api/v1/status")
async def service_status(request: Request, caller: Caller, store: StoreDep) -> dict[str, Any]:
    """What an operator asks first: is Kafka there, since when is the service up, what failed."""
    state = request.app.state
    publisher = state.dispatcher.publisher
    return {
        "kafka_connected": publisher.connected,
        "status_consumer_connected": state.status_consumer.connected,
        "uptime_s": round(time.monotonic() - state.started_at, 3),
        "last_error": publisher.last_error or state.status_consumer.last_error,
        "counters": state.metrics.counters(),
        "commands_by_status": await store.count_by_status(),
    }


@router.get("/api/v1/metrics")
async def metrics_json(request: Request, caller: Caller) -> dict[str, Any]:
    """The Prometheus counters as JSON, for people and scripts without a Prometheus."""
    metrics = request.app.state.metrics
    histogram = metrics.publish_seconds
    samples = {s.name: s.value for f in histogram.collect() for s in f.samples if not s.labels}
    return {
        **metrics.counters(),
        "publish_seconds": {
            "count": samples.get("pusher_publish_seconds_count", 0.0),
            "sum": samples.get("pusher_publish_seconds_sum", 0.0),
        },
    }


@router.get("/metrics", include_in_schema=False)
async def metrics_prometheus(request: Request) -> Response:
    """Prometheus text exposition; behind the API key unless `METRICS_PUBLIC=true`."""
    if not request.app.state.settings.metrics_public:
        authorize(request)
    return Response(
        generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST
    )
