"""``CollectionService``: keep every configured area × data type complete.

Two entry points:

- ``collect_range`` fetches one explicit range (``energy-data collect --start … --end …``).
- ``fill_gaps`` looks for holes *anywhere* in the configured window (``COLLECTION__
  LOOKBACK_DAYS`` back from now), not only after the latest point, at each series' own
  resolution; it merges adjacent holes into ranges and fetches them, re-fetches forecasts over
  their publication horizon (they are revised) once ``FORECAST_REFRESH`` has passed since the
  last successful run, and fetches tomorrow's day-ahead prices once the auction results are out
  (~13:00 CET, so from 12:00 UTC).

A stored point covers its window when its interval overlaps it (``entsoe_client.overlaps``):
the day, week or year point that starts before a window starting mid-day covers the window's
first hours, so coarse series show no hole at a window edge and are not asked for again.

Each chunk's points are stored as soon as the chunk arrives (revision-aware upserts, so
re-fetching is harmless). A chunk that fails fails the run: the result says so with the error
and the run row records it; there is no "success with holes". Every run writes one
``collection_runs`` row per area × data type; when the token is rejected the failed run is
recorded (so alerting sees it at once) and the ``AuthenticationError`` propagates: no points
are written. In a scheduled job whose leader's term ended meanwhile the write is refused
(``TermOverError``) and the run stops at once without recording anything: the new leader's
jobs collect and record.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog
from entsoe_client import PLATFORM_TABLE, Area, AuthenticationError, DataType

from energy_data_service.collectors.entsoe_collector import EntsoeCollector
from energy_data_service.coverage import Interval, holes, merge_ranges
from energy_data_service.domain import (
    FORECAST_HORIZON,
    FORECAST_REFRESH,
    FORECAST_TYPES,
    resolve_border,
)
from energy_data_service.errors import TermOverError
from energy_data_service.processors import process_documents
from energy_data_service.processors.transmission import CONTRACT_TYPED
from energy_data_service.repositories.points import PointRepository
from energy_data_service.repositories.runs import CollectionRun, RunRepository
from energy_data_service.series_domains import is_directional
from energy_data_service.settings import CollectionSettings

log = structlog.get_logger(__name__)

PRICES_PUBLISHED_UTC_HOUR = 12
"""Day-ahead auction results appear ~12:45 CET/CEST; from 12:00 UTC we start asking."""


@dataclass(slots=True)
class CollectionResult:
    """Outcome of one run for one area × data type."""

    area: Area
    data_type: str
    ranges: list[Interval]
    points: int = 0
    error: str | None = None
    error_class: str | None = None
    response_ms: float = 0.0
    processing_ms: float = 0.0
    window: Interval | None = None
    chunks: int = 0
    out_area: Area | None = None
    """Where the energy comes from, for directional data types (``area`` is where it goes)."""
    contract_type: str | None = None
    """The horizon asked for (exchanges, capacities); ``None``: the data type's default."""

    @property
    def success(self) -> bool:
        """True only when every chunk of every range was fetched and stored."""
        return self.error is None


def _floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def _local_day_start(moment: datetime, area: Area, days: int = 0) -> datetime:
    zone = area.time_zone
    local = moment.astimezone(zone).replace(tzinfo=None)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=days)
    return day.replace(tzinfo=zone).astimezone(UTC)


class CollectionService:
    """Gap filling and range collection over the collector, processors and repositories."""

    def __init__(
        self,
        *,
        collector: EntsoeCollector,
        points: PointRepository,
        runs: RunRepository,
        collection: CollectionSettings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._collector = collector
        self._points = points
        self._runs = runs
        self._collection = collection
        self._clock = clock

    # -- explicit ranges ---------------------------------------------------------------------

    async def collect_range(
        self,
        area: Area,
        data_type: str,
        start: datetime,
        end: datetime,
        *,
        run_kind: str = "collect",
        out_area: Area | None = None,
        contract_type: str | None = None,
    ) -> CollectionResult:
        """Fetch and store ``[start, end)``; the result fails if any chunk failed."""
        result = CollectionResult(
            area,
            data_type,
            [(start, end)],
            window=(start, end),
            out_area=out_area,
            contract_type=contract_type,
        )
        await self._fetch_ranges(result, run_kind)
        return result

    # -- gap filling -------------------------------------------------------------------------

    def window(self, area: Area, data_type: str, now: datetime) -> Interval:
        """The range that should be complete now, for one area × data type."""
        start = _floor_hour(now - timedelta(days=self._collection.lookback_days))
        if data_type == "day_ahead_prices":
            days_ahead = 2 if now.hour >= PRICES_PUBLISHED_UTC_HOUR else 1
            return start, _local_day_start(now, area, days_ahead)
        if data_type in FORECAST_TYPES:
            return start, _local_day_start(now + FORECAST_HORIZON[data_type], area, 1)
        return start, now

    async def ranges_to_fetch(
        self,
        area: Area,
        data_type: str,
        now: datetime,
        out_area: Area | None = None,
        contract_type: str | None = None,
    ) -> list[Interval]:
        """Holes in the window, plus the forecast horizon (forecasts get revised). Holes are
        those of the one border and horizon asked for: another horizon's points fill none."""
        start, end = self.window(area, data_type, now)
        identity = {} if out_area is None else {"out_area_code": out_area.eic}
        if data_type in CONTRACT_TYPED:
            rule = PLATFORM_TABLE[DataType(data_type)]
            identity["contract_type"] = contract_type or rule.default_contract_type or ""
        present = await self._points.present_intervals(area.eic, data_type, start, end, **identity)
        wanted = holes(present, start, end, area.time_zone)
        if data_type in FORECAST_TYPES and await self._horizon_due(area, data_type):
            wanted.append((_local_day_start(now, area), end))
        return merge_ranges(wanted, join_within=timedelta(hours=6))

    async def _horizon_due(self, area: Area, data_type: str) -> bool:
        """True unless a run stored points of this forecast within ``FORECAST_REFRESH``.

        A run that stored points is taken as having fetched the horizon (a run that only
        filled an older hole counts too, which at worst delays a refresh); compared with the
        wall clock, as run rows record it (the service clock may be fixed).
        """
        refresh = FORECAST_REFRESH.get(data_type, timedelta(0))
        if refresh <= timedelta(0):
            return True
        for run in await self._runs.recent(20, area_code=area.eic, data_type=data_type):
            if run.success and run.points > 0 and run.run_kind != "backfill":
                return datetime.now(UTC) - run.started_at.astimezone(UTC) >= refresh
        return True

    async def fill_gaps(
        self,
        area: Area,
        data_type: str,
        *,
        run_kind: str = "gap_fill",
        out_area: Area | None = None,
        contract_type: str | None = None,
    ) -> CollectionResult:
        """Find and fetch every hole of one area × data type in the configured window."""
        now = self._clock()
        window = self.window(area, data_type, now)
        ranges = await self.ranges_to_fetch(area, data_type, now, out_area, contract_type)
        result = CollectionResult(
            area,
            data_type,
            ranges,
            window=window,
            out_area=out_area,
            contract_type=contract_type,
        )
        await self._fetch_ranges(result, run_kind)
        return result

    async def fill_all(
        self,
        areas: Iterable[Area] | None = None,
        data_types: Iterable[str] | None = None,
        *,
        run_kind: str = "gap_fill",
    ) -> list[CollectionResult]:
        """``fill_gaps`` for every configured area × data type, a few areas at a time."""
        chosen_areas = (
            list(areas)
            if areas is not None
            else [Area.lookup(name) for name in self._collection.areas]
        )
        chosen_types = list(data_types) if data_types is not None else self._collection.data_types
        gate = asyncio.Semaphore(self._collection.max_concurrency)

        one_area_types = [t for t in chosen_types if not is_directional(t)]
        border_types = [t for t in chosen_types if is_directional(t)]
        borders = [resolve_border(pair) for pair in self._collection.borders]

        async def one_area(area: Area) -> list[CollectionResult]:
            async with gate:
                return [
                    await self.fill_gaps(area, data_type, run_kind=run_kind)
                    for data_type in one_area_types
                ]

        async def one_border(source: Area, target: Area) -> list[CollectionResult]:
            async with gate:
                return [
                    await self.fill_gaps(
                        target,
                        data_type,
                        run_kind=run_kind,
                        out_area=source,
                        contract_type=horizon,
                    )
                    for data_type in border_types
                    for horizon in self.horizons(data_type)
                ]

        try:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(one_area(area)) for area in chosen_areas]
                if border_types:
                    tasks += [group.create_task(one_border(*pair)) for pair in borders]
        except ExceptionGroup as failed:
            # a rejected token stops every area; callers expect the error itself, not a group
            rejected = failed.subgroup((TermOverError, AuthenticationError))
            raise _first_leaf(rejected or failed) from None
        return [result for task in tasks for result in task.result()]

    def horizons(self, data_type: str) -> list[str | None]:
        """The horizons of ``data_type`` kept complete: those of ``COLLECTION__CONTRACT_TYPES``
        the type publishes, else its default (``None``)."""
        offered = PLATFORM_TABLE[DataType(data_type)].contract_types
        chosen = [code for code in self._collection.contract_types if code in offered]
        return list(chosen) or [None]

    # -- shared ------------------------------------------------------------------------------

    async def _fetch_ranges(self, result: CollectionResult, run_kind: str) -> None:
        started = datetime.now(UTC)
        rejected: AuthenticationError | None = None
        try:
            for start, end in result.ranges:
                async for chunk in self._collector.chunks(
                    result.area,
                    result.data_type,
                    start,
                    end,
                    out_area=result.out_area,
                    contract_type=result.contract_type,
                ):
                    began = time.perf_counter()
                    points = process_documents(
                        chunk.documents,
                        datetime.now(UTC),
                        data_type=result.data_type,
                        area_code=result.area.eic,
                    )
                    result.points += await self._points.upsert(points)
                    result.processing_ms += (time.perf_counter() - began) * 1000
                    result.response_ms += chunk.response_ms
                    result.chunks += 1
        except TermOverError:
            log.warning(
                "collection.term_over",
                area=result.area.short_name,
                data_type=result.data_type,
            )
            raise
        except Exception as error:
            rejected = error if isinstance(error, AuthenticationError) else None
            result.error = str(error) or type(error).__name__
            result.error_class = type(error).__name__
            log.warning(
                "collection.run_failed",
                area=result.area.short_name,
                data_type=result.data_type,
                error=result.error,
            )
        window = result.window or (result.ranges[0] if result.ranges else (None, None))
        await self._runs.record(
            CollectionRun(
                run_kind=run_kind,
                area_code=result.area.eic,
                data_type=result.data_type,
                window_start=window[0],
                window_end=window[1],
                started_at=started,
                finished_at=datetime.now(UTC),
                points=result.points,
                success=result.success,
                error_class=result.error_class,
                error_text=result.error,
                platform_response_ms=result.response_ms,
                processing_ms=result.processing_ms,
            )
        )
        if rejected is not None:
            raise rejected  # a wrong token stops the whole run (recorded above for alerting)


def _first_leaf(group: BaseExceptionGroup[BaseException]) -> BaseException:
    first = group.exceptions[0]
    return _first_leaf(first) if isinstance(first, BaseExceptionGroup) else first
