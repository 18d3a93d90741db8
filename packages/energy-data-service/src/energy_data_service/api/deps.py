"""What routes receive, as one ``Annotated`` alias per service, repository or setting.

Routes never build anything and never see the composition root (``container.Container``): each
asks for the part it uses (``AlertServiceDep``, ``BackfillsDep``, …), so a route's signature
says what it touches, and the API and the scheduler share one engine and one set of services.
This module is the only one that reads ``app.state``.

The services that talk to the ENTSO-E platform come as openers (``OpenBackfillServiceDep``): a
route first checks its input, then opens the service, which raises ``MissingTokenError`` (→ 409,
see ``api/errors.py``) when no token is set, before anything is stored.

Every dependency is ``async def``: FastAPI runs plain ``def`` dependencies in a worker thread,
which costs more than the lookup itself on a hot route like ``/latest``; and each reads
``app.state`` directly, because every level of nested dependencies costs time on every request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader
from service_common import check_api_key

from energy_data_service.api.background import DetachedTasks
from energy_data_service.container import Container
from energy_data_service.monitoring.metrics import ServiceMetrics
from energy_data_service.repositories.backfill import BackfillRepository
from energy_data_service.repositories.health import HealthRepository
from energy_data_service.repositories.job_executions import JobExecutionRepository
from energy_data_service.repositories.points import PointRepository
from energy_data_service.repositories.series_reads import SeriesReadRepository
from energy_data_service.services.alerting import AlertService
from energy_data_service.services.backfill import BackfillService
from energy_data_service.services.leader_election import LeaderElection
from energy_data_service.services.quality_reports import DataQualityService
from energy_data_service.services.run_monitoring import MonitoringService
from energy_data_service.services.scheduler import SchedulerService
from energy_data_service.settings import Settings


def _container(request: Request) -> Container:
    """The composition root ``create_app`` was given (a plain call: no dependency level)."""
    return request.app.state.container  # type: ignore[no-any-return]


async def get_settings(request: Request) -> Settings:
    return _container(request).settings


async def get_collection_off_reason(request: Request) -> str | None:
    return _container(request).collection_off_reason


async def get_series_reads(request: Request) -> SeriesReadRepository:
    return _container(request).series_reads


async def get_points(request: Request) -> PointRepository:
    return _container(request).points


async def get_backfills(request: Request) -> BackfillRepository:
    return _container(request).backfills


async def get_health(request: Request) -> HealthRepository:
    return _container(request).health


async def get_job_executions(request: Request) -> JobExecutionRepository:
    return _container(request).job_executions


async def get_scheduler(request: Request) -> SchedulerService:
    return _container(request).scheduler


async def get_leader(request: Request) -> LeaderElection:
    return _container(request).leader


async def get_metrics(request: Request) -> ServiceMetrics:
    return _container(request).metrics


async def get_alert_service(request: Request) -> AlertService:
    return _container(request).alert_service


async def get_monitoring_service(request: Request) -> MonitoringService:
    return _container(request).monitoring_service


async def get_quality_service(request: Request) -> DataQualityService:
    return _container(request).quality_service


async def get_backfill_opener(request: Request) -> Callable[[], Awaitable[BackfillService]]:
    return _container(request).backfill_service


async def get_detached_tasks(request: Request) -> DetachedTasks:
    return request.app.state.background  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(get_settings)]
CollectionOffReasonDep = Annotated[str | None, Depends(get_collection_off_reason)]
"""Why this process does not collect (no token, scheduler disabled), or None when it does."""
SeriesReadsDep = Annotated[SeriesReadRepository, Depends(get_series_reads)]
PointsDep = Annotated[PointRepository, Depends(get_points)]
BackfillsDep = Annotated[BackfillRepository, Depends(get_backfills)]
HealthDep = Annotated[HealthRepository, Depends(get_health)]
JobExecutionsDep = Annotated[JobExecutionRepository, Depends(get_job_executions)]
SchedulerDep = Annotated[SchedulerService, Depends(get_scheduler)]
LeaderDep = Annotated[LeaderElection, Depends(get_leader)]
MetricsDep = Annotated[ServiceMetrics, Depends(get_metrics)]
AlertServiceDep = Annotated[AlertService, Depends(get_alert_service)]
MonitoringServiceDep = Annotated[MonitoringService, Depends(get_monitoring_service)]
QualityServiceDep = Annotated[DataQualityService, Depends(get_quality_service)]
OpenBackfillServiceDep = Annotated[
    Callable[[], Awaitable[BackfillService]], Depends(get_backfill_opener)
]
"""Opens the backfill service (and the ENTSO-E client); raises ``MissingTokenError``."""
DetachedTasksDep = Annotated[DetachedTasks, Depends(get_detached_tasks)]

_api_key_header = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="Required only when the service is configured with API__KEYS.",
)


async def require_api_key(
    request: Request, key: Annotated[str | None, Security(_api_key_header)]
) -> None:
    """Check ``X-API-Key`` against ``API__KEYS`` in constant time; open when no keys are set."""
    settings = _container(request).settings
    keys = [secret.get_secret_value() for secret in settings.api.keys]
    check_api_key(key, keys, keys_variable="API__KEYS")


ApiKeyDep = Depends(require_api_key)


async def require_metrics_access(
    request: Request, key: Annotated[str | None, Security(_api_key_header)]
) -> None:
    """``/metrics`` names every series: behind the key unless ``API__METRICS_PUBLIC=true``."""
    if not _container(request).settings.api.metrics_public:
        await require_api_key(request, key)


MetricsAccessDep = Depends(require_metrics_access)
