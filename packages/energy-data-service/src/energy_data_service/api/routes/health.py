"""``/health`` (liveness, for load balancers and Docker) and ``/api/v1/health`` (in detail)."""

from __future__ import annotations

from fastapi import APIRouter
from service_common import OrjsonResponse

from energy_data_service.api.deps import (
    ApiKeyDep,
    CollectionOffReasonDep,
    HealthDep,
    LeaderDep,
    SchedulerDep,
)
from energy_data_service.domain import area_label

router = APIRouter(tags=["health"])


@router.get("/health", summary="Liveness: the process answers")
async def liveness() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/api/v1/health",
    summary="Database, scheduler and freshness of every series; 503 while the database is down",
    responses={503: {"description": "The database does not answer"}},
    dependencies=[ApiKeyDep],
)
async def health(
    reason: CollectionOffReasonDep,
    leader: LeaderDep,
    schedule: SchedulerDep,
    database: HealthDep,
) -> OrjsonResponse:
    scheduler = {
        "collection": "off" if reason else "on",
        "reason": reason,
        "leader": leader.is_leader,
        "running": schedule.is_running,
    }
    try:
        await database.ping()
        freshness = await database.last_successful_collections()
    except Exception as error:
        return OrjsonResponse(
            {
                "status": "down",
                "database": {"ok": False, "error": f"{type(error).__name__}: {error}"[:300]},
                "scheduler": scheduler,
            },
            status_code=503,
            headers={"Retry-After": "5"},
        )
    return OrjsonResponse(
        {
            "status": "ok" if reason is None else "degraded",
            "database": {"ok": True, "backend": database.backend},
            "scheduler": scheduler,
            "series": [
                {
                    "area_code": item.area_code,
                    "area": area_label(item.area_code),
                    "data_type": item.data_type,
                    "last_success_at": item.last_success_at,
                }
                for item in freshness
            ],
        }
    )
