"""Health, status and metrics: `/health`, `/api/v1/status`, `/api/v1/metrics`, `/metrics`."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request, Response

from pusher_api.deps import (
    Caller,
    DispatcherDep,
    MetricsDep,
    ServicesDep,
    SettingsDep,
    StatusConsumerDep,
    StoreDep,
    authorize,
)

router = APIRouter(tags=["health"])


@router.get("/health")
async def health(dispatcher: DispatcherDep, store: StoreDep) -> dict[str, Any]:
    """Liveness: the process answers. `kafka_connected` tells whether commands can be published,
    `store_connected` whether their status can be recorded and read; either false is
    `degraded`."""
    publisher = dispatcher.publisher
    store_connected = await store.ping()
    return {
        "status": "ok" if publisher.connected and store_connected else "degraded",
        "kafka_connected": publisher.connected,
        "store_connected": store_connected,
    }


@router.get("/api/v1/status")
async def service_status(
    caller: Caller, services: ServicesDep, consumer: StatusConsumerDep, store: StoreDep
) -> dict[str, Any]:
    """What an operator asks first: is Kafka there, since when is the service up, what failed."""
    publisher = services.dispatcher.publisher
    return {
        "kafka_connected": publisher.connected,
        "status_consumer_connected": consumer.connected,
        # partition → next offset to apply: which status partitions this replica reads
        "status_partitions": {str(p): offset for p, offset in sorted(consumer.partitions.items())},
        "uptime_s": round(time.monotonic() - services.started_at, 3),
        "last_error": publisher.last_error or consumer.last_error,
        "counters": services.metrics.counters(),
        "commands_by_status": await store.count_by_status(),
    }


@router.get("/api/v1/metrics")
async def metrics_json(caller: Caller, metrics: MetricsDep) -> dict[str, Any]:
    """The Prometheus counters as JSON, for people and scripts without a Prometheus."""
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
async def metrics_prometheus(
    request: Request, settings: SettingsDep, metrics: MetricsDep
) -> Response:
    """Prometheus text exposition; behind the API key unless `METRICS_PUBLIC=true`."""
    if not settings.metrics_public:
        authorize(request)
    return metrics.exposition()
