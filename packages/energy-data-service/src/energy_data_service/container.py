"""Composition root: the one place that builds settings → engine → repositories → services.

Use it as an async context manager; entering applies the migrations, leaving closes the HTTP
client and the engine::

    async with Container(load_settings()) as container:
        await container.data_service.collect(...)

The ENTSO-E client is built on first use, so commands that never talk to the platform
(`status`, `export`, `import`) work without a token.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING

from energy_data_service.alerts.channels.configured import configured_channels
from energy_data_service.db.engine import create_engine
from energy_data_service.db.migrate import upgrade
from energy_data_service.errors import MissingTokenError
from energy_data_service.monitoring.metrics import ServiceMetrics
from energy_data_service.repositories.alerts import AlertRepository
from energy_data_service.repositories.backfill import BackfillRepository
from energy_data_service.repositories.health import HealthRepository
from energy_data_service.repositories.job_executions import JobExecutionRepository
from energy_data_service.repositories.monitoring import MonitoringRepository
from energy_data_service.repositories.points import PointRepository
from energy_data_service.repositories.quality import QualityRepository
from energy_data_service.repositories.runs import RunRepository
from energy_data_service.repositories.series_reads import SeriesReadRepository
from energy_data_service.services.alerting import AlertService
from energy_data_service.services.collection_jobs import collection_jobs
from energy_data_service.services.leader_election import LeaderElection
from energy_data_service.services.monitoring_jobs import monitoring_jobs
from energy_data_service.services.quality_reports import DataQualityService
from energy_data_service.services.run_monitoring import MonitoringService
from energy_data_service.services.scheduler import RetryPolicy, SchedulerService
from energy_data_service.settings import Settings

if TYPE_CHECKING:
    from entsoe_client import EntsoeClient

    from energy_data_service.collectors.entsoe_collector import EntsoeCollector
    from energy_data_service.services.backfill import BackfillService
    from energy_data_service.services.collection import CollectionService


class Container:
    """Holds the long-lived objects of one process and wires them together."""

    def __init__(self, settings: Settings, *, migrate: bool = True) -> None:
        self.settings = settings
        self._migrate = migrate
        database = settings.database
        self.engine = create_engine(
            database.url,
            connect_timeout=database.connect_timeout_seconds,
            command_timeout=database.command_timeout_seconds,
            pool_timeout=database.pool_timeout_seconds,
        )
        self.points = PointRepository(self.engine)
        self.runs = RunRepository(self.engine)
        self.backfills = BackfillRepository(self.engine)
        self.series_reads = SeriesReadRepository(
            self.engine, latest_cache_seconds=settings.api.latest_cache_seconds
        )
        self.health = HealthRepository(self.engine)
        self.job_executions = JobExecutionRepository(self.engine)
        self.metrics = ServiceMetrics()
        self._build_monitoring()
        schedule = settings.scheduler
        self.scheduler = SchedulerService(
            collection_jobs(
                schedule,
                settings.collection.data_types,
                self.collection_service,
                self.backfill_service,
            )
            + monitoring_jobs(
                settings.alerts, settings.quality, self.alert_service, self.quality_service
            ),
            self.job_executions,
            RetryPolicy(
                max_attempts=schedule.max_attempts, base_seconds=schedule.retry_base_seconds
            ),
            shutdown_grace_seconds=schedule.shutdown_grace_seconds,
        )
        self.leader = LeaderElection(
            self.engine,
            on_elected=self.scheduler.start,
            on_deposed=self.scheduler.stop,
            poll_seconds=schedule.leader_poll_seconds,
            stale_seconds=schedule.leader_stale_seconds,
        )
        self.scheduler.fencing_token = lambda: self.leader.fencing_token
        self.scheduler.leader_term = lambda: self.leader.term
        self._exit_stack = AsyncExitStack()
        self._client: EntsoeClient | None = None

    async def __aenter__(self) -> Container:
        if self._migrate:
            await upgrade(self.engine)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    def _build_monitoring(self) -> None:
        """Monitoring, alerting (hooked into every recorded run) and data quality."""
        settings = self.settings
        monitoring_reads = MonitoringRepository(self.engine)
        quality = QualityRepository(self.engine)
        self.monitoring_service = MonitoringService(
            repository=monitoring_reads, collection=settings.collection, metrics=self.metrics
        )
        self.alert_service = AlertService(
            alerts=AlertRepository(self.engine),
            monitoring=self.monitoring_service,
            monitoring_reads=monitoring_reads,
            quality=quality,
            settings=settings.alerts,
            channels=configured_channels(settings.alerts),
            metrics=self.metrics,
        )
        self.runs.listeners.append(self.alert_service.on_run_recorded)
        self.quality_service = DataQualityService(
            repository=quality,
            settings=settings.quality,
            collection=settings.collection,
            collection_service=self.collection_service,
            metrics=self.metrics,
        )

    async def aclose(self) -> None:
        """Close the client (if it was opened) and the engine's pool."""
        await self.alert_service.drain()
        await self._exit_stack.aclose()
        self._client = None
        await self.engine.dispose()

    async def client(self) -> EntsoeClient:
        """The shared ENTSO-E client, opened on first use."""
        if self._client is None:
            from entsoe_client import EntsoeClient

            token = self.settings.entsoe.token
            if token is None:
                raise MissingTokenError(
                    "No ENTSO-E API token: set ENTSOE__API_TOKEN (or ENTSOE_API_TOKEN) "
                    "in the environment or in .env."
                )
            entsoe = self.settings.entsoe
            client = EntsoeClient(
                token,
                base_url=entsoe.base_url,
                requests_per_minute=entsoe.requests_per_minute,
                max_response_bytes=entsoe.max_response_bytes,
                max_zip_bytes=entsoe.max_zip_bytes,
                max_zip_members=entsoe.max_zip_members,
            )
            self._client = await self._exit_stack.enter_async_context(client)
        return self._client

    async def collector(self) -> EntsoeCollector:
        """Collector over the shared client."""
        from energy_data_service.collectors.entsoe_collector import EntsoeCollector

        return EntsoeCollector(await self.client())

    async def collection_service(self) -> CollectionService:
        """Gap filler and range collector."""
        from energy_data_service.services.collection import CollectionService

        return CollectionService(
            collector=await self.collector(),
            points=self.points,
            runs=self.runs,
            collection=self.settings.collection,
        )

    async def backfill_service(self) -> BackfillService:
        """Chunked, resumable history loader."""
        from energy_data_service.services.backfill import BackfillService

        return BackfillService(
            collector=await self.collector(),
            engine=self.engine,
            points=self.points,
            backfills=self.backfills,
            runs=self.runs,
            collection=self.settings.collection,
            lease_seconds=self.settings.backfill.lease_seconds,
        )

    @property
    def collection_off_reason(self) -> str | None:
        """Why `serve` does not collect (no token, or disabled), or None when it does."""
        if not self.settings.scheduler.enabled:
            return "the scheduler is disabled (SCHEDULER__ENABLED=false)"
        if self.settings.entsoe.token is None:
            return "collection is off until ENTSOE__API_TOKEN is set (serving stored data only)"
        return None

    @cached_property
    def url(self) -> str:
        """Database URL (password hidden) for messages."""
        return self.engine.url.render_as_string(hide_password=True)
