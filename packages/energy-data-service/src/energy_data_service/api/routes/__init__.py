"""One router per resource; ``create_app`` includes every router listed in ``routers``.

A new resource adds its module here and its router to the list (monitoring, alerts and quality
join the same way).
"""

from fastapi import APIRouter

from energy_data_service.api.routes import (
    alerts,
    backfill,
    catalog,
    coverage,
    energy_data,
    health,
    jobs,
    metrics,
    monitoring,
    quality,
)

routers: list[APIRouter] = [
    health.router,
    energy_data.router,
    catalog.router,
    coverage.router,
    backfill.router,
    jobs.router,
    metrics.router,
    monitoring.router,
    alerts.router,
    quality.router,
]
