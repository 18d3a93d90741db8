"""The jobs of the collection schedule and when each runs (from ``SCHEDULER__*`` settings).

Every job is a gap fill over a subset of the configured data types (``CollectionService``
knows each type's window: up to now for actuals, over the publication horizon for forecasts,
tomorrow for prices once published), so a job that missed runs catches up by itself. A run with
any failed series raises, so the scheduler retries it and records the failure.

Each job opens its service when it runs (``open_collection`` / ``open_backfill``, which open the
ENTSO-E client on first use), so a service started without a token still lists its jobs and
their history.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from energy_data_service.domain import FORECAST_TYPES
from energy_data_service.errors import CollectionFailedError
from energy_data_service.services.scheduler import JobRun, ScheduledJob
from energy_data_service.settings import SchedulerSettings

if TYPE_CHECKING:
    from energy_data_service.services.backfill import BackfillService
    from energy_data_service.services.collection import CollectionResult, CollectionService


def _points_or_raise(results: list[CollectionResult]) -> int:
    failed = [r for r in results if not r.success]
    if failed:
        details = "; ".join(f"{r.area.short_name} {r.data_type}: {r.error}" for r in failed[:5])
        raise CollectionFailedError(f"{len(failed)} of {len(results)} series failed: {details}")
    return sum(r.points for r in results)


def _hhmm(value: str) -> tuple[int, int]:
    hour, minute = value.split(":")
    return int(hour), int(minute)


def collection_jobs(
    settings: SchedulerSettings,
    configured: list[str],
    open_collection: Callable[[], Awaitable[CollectionService]],
    open_backfill: Callable[[], Awaitable[BackfillService]],
) -> list[ScheduledJob]:
    """Real-time collection, forecasts, gap filling, backfill analysis and day-ahead prices.

    ``configured`` is the data types to collect (``COLLECTION__DATA_TYPES``).
    """

    def gap_fill_of(keep: Callable[[str], bool]) -> JobRun:
        async def run() -> int:
            data_types = [t for t in configured if keep(t)]
            if not data_types:
                return 0
            service = await open_collection()
            return _points_or_raise(
                await service.fill_all(data_types=data_types, run_kind="scheduled")
            )

        return run

    def is_actual(data_type: str) -> bool:
        return data_type not in FORECAST_TYPES and data_type != "day_ahead_prices"

    async def backfill_analysis() -> int:
        service = await open_backfill()
        return await service.fill_coverage_gaps()

    return [
        ScheduledJob(
            "realtime_collection",
            "Actual load up to now (holes in the lookback window included)",
            gap_fill_of(is_actual),
            every=timedelta(minutes=settings.realtime_minutes),
        ),
        ScheduledJob(
            "forecasts",
            "Forecasts re-fetched over their publication horizon",
            gap_fill_of(lambda t: t in FORECAST_TYPES),
            every=timedelta(hours=settings.forecast_hours),
        ),
        ScheduledJob(
            "gap_fill",
            "Every configured series: holes in the lookback window found and filled",
            gap_fill_of(lambda t: True),
            every=timedelta(hours=settings.gap_fill_hours),
        ),
        ScheduledJob(
            "backfill_analysis",
            "Coverage of the stored history checked and its holes fetched",
            backfill_analysis,
            daily_at_utc=(_hhmm(settings.backfill_time_utc),),
        ),
        ScheduledJob(
            "day_ahead_prices",
            "Tomorrow's day-ahead prices, after their publication",
            gap_fill_of(lambda t: t == "day_ahead_prices"),
            daily_at_utc=tuple(_hhmm(t) for t in settings.price_times_utc),
        ),
    ]
