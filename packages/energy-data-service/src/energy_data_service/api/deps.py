"""Dependencies of the routes as ``Annotated`` aliases: the container's parts and the API key.

Routes never build anything themselves; they receive what the composition root (``container``)
built, so the API and the scheduler share one engine and one set of services. Every dependency
is ``async def``: FastAPI runs plain ``def`` dependencies in a worker thread, which costs more
than the lookup itself on a hot route like ``/latest``; and each reads the container from the
request directly, because every level of nested dependencies costs time on every request.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.security import APIKeyHeader

from energy_data_service.container import Container
from energy_data_service.repositories.job_executions import JobExecutionRepository
from energy_data_service.repositories.series_reads import SeriesReadRepository
from energy_data_service.services.scheduler import SchedulerService
from energy_data_service.settings import Settings


async def get_container(request: Request) -> Container:
    """The container ``create_app`` was given."""
    container: Container = request.app.state.container
    return container


ContainerDep = Annotated[Container, Depends(get_container)]


async def get_settings(request: Request) -> Settings:
    return request.app.state.container.settings  # type: ignore[no-any-return]


async def get_series_reads(request: Request) -> SeriesReadRepository:
    return request.app.state.container.series_reads  # type: ignore[no-any-return]


async def get_scheduler(request: Request) -> SchedulerService:
    return request.app.state.container.scheduler  # type: ignore[no-any-return]


async def get_job_executions(request: Request) -> JobExecutionRepository:
    return request.app.state.container.job_executions  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(get_settings)]
SeriesReadsDep = Annotated[SeriesReadRepository, Depends(get_series_reads)]
SchedulerDep = Annotated[SchedulerService, Depends(get_scheduler)]
JobExecutionsDep = Annotated[JobExecutionRepository, Depends(get_job_executions)]

_api_key_header = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="Required only when the service is configured with API__KEYS.",
)


async def require_api_key(
    request: Request, key: Annotated[str | None, Security(_api_key_header)]
) -> None:
    """Check ``X-API-Key`` against ``API__KEYS`` in constant time; open when no keys are set."""
    settings: Settings = request.app.state.container.settings
    keys = [secret.get_secret_value() for secret in settings.api.keys]
    if not keys:
        return
    offered = (key or "").encode()
    # Compare against every key (no early exit) so timing says nothing about which one matched.
    matched = False
    for expected in keys:
        matched |= hmac.compare_digest(offered, expected.encode())
    if not matched:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="missing or invalid API key: send it in the X-API-Key header",
            headers={"WWW-Authenticate": "ApiKey"},
        )


ApiKeyDep = Depends(require_api_key)


async def require_metrics_access(
    request: Request, key: Annotated[str | None, Security(_api_key_header)]
) -> None:
    """``/metrics`` names every series: behind the key unless ``API__METRICS_PUBLIC=true``."""
    if not request.app.state.container.settings.api.metrics_public:
        await require_api_key(request, key)


MetricsAccessDep = Depends(require_metrics_access)
