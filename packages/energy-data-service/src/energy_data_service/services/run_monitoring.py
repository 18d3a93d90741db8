"""``MonitoringService``: how collection is doing, read from ``collection_runs`` and the points.

Every collection, gap-fill, backfill and import run leaves one row per area × data type; from
those this service answers success rates per series over a period, the platform's latency
percentiles and error classes, and per series how far the newest value is behind its publication
schedule (``monitoring.publication``). It also keeps the Prometheus metrics current: counters as
runs are recorded, gauges at each staleness check.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from energy_data_service.alerts.rules import Staleness, SuccessRate
from energy_data_service.domain import area_label, area_time_zone, resolve_area, step_end
from energy_data_service.monitoring.metrics import ServiceMetrics
from energy_data_service.monitoring.publication import PUBLICATION_LAGS
from energy_data_service.repositories.monitoring import MonitoringRepository, RunRow
from energy_data_service.repositories.runs import CollectionRun
from energy_data_service.settings import CollectionSettings


@dataclass(frozen=True)
class Percentiles:
    """Latency distribution of a set of runs, in milliseconds."""

    count: int
    p50: float | None
    p90: float | None
    p99: float | None
    max: float | None


@dataclass(frozen=True)
class LatencyReport:
    """Platform response times overall and per data type, and what went wrong how often."""

    overall: Percentiles
    by_data_type: dict[str, Percentiles]
    error_classes: dict[str, int]


@dataclass(frozen=True)
class Summary:
    """The one-screen answer to "is collection healthy?"."""

    start: datetime
    end: datetime
    runs: int
    failed_runs: int
    success_percent: float | None
    points: int
    failing_series: list[str]
    stale_series: list[str]


def percentile(ordered: Sequence[float], fraction: float) -> float | None:
    """Linear-interpolated percentile of already sorted values (``None`` when empty)."""
    if not ordered:
        return None
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _percentiles(values: list[float]) -> Percentiles:
    ordered = sorted(values)
    return Percentiles(
        count=len(ordered),
        p50=percentile(ordered, 0.50),
        p90=percentile(ordered, 0.90),
        p99=percentile(ordered, 0.99),
        max=ordered[-1] if ordered else None,
    )


class MonitoringService:
    """Answers the monitoring questions and keeps the Prometheus metrics current."""

    def __init__(
        self,
        *,
        repository: MonitoringRepository,
        collection: CollectionSettings,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        metrics: ServiceMetrics | None = None,
    ) -> None:
        self._metrics = metrics or ServiceMetrics()
        self._repository = repository
        self._collection = collection
        self._clock = clock

    def now(self) -> datetime:
        """The service's clock (tests move it)."""
        return self._clock()

    def count_run(self, run: CollectionRun) -> None:
        """Add a just-recorded run to the Prometheus counters."""
        area = area_label(run.area_code)
        outcome = "success" if run.success else "failure"
        self._metrics.collection_runs.labels(area, run.data_type, run.run_kind, outcome).inc()
        self._metrics.collection_points.labels(area, run.data_type).inc(run.points)
        if not run.success:
            self._metrics.collection_failures.labels(
                area, run.data_type, run.error_class or "unknown"
            ).inc()
        if run.platform_response_ms is not None:
            self._metrics.platform_response.labels(run.data_type).observe(
                run.platform_response_ms / 1000
            )

    async def success_rates(self, start: datetime, end: datetime) -> list[SuccessRate]:
        """Runs and successes per area × data type in ``[start, end)`` (imports excluded)."""
        tally: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        for run in await self._repository.runs_between(start, end):
            if run.run_kind == "import":
                continue
            counts = tally[(area_label(run.area_code), run.data_type)]
            counts[0] += 1
            counts[1] += run.success
        return [
            SuccessRate(area=area, data_type=data_type, runs=runs, successes=ok)
            for (area, data_type), (runs, ok) in sorted(tally.items())
        ]

    async def latency(self, start: datetime, end: datetime) -> LatencyReport:
        """Platform response-time percentiles and error classes of runs in ``[start, end)``."""
        runs = await self._repository.runs_between(start, end)
        fetched = [r for r in runs if r.run_kind != "import" and r.platform_response_ms]
        by_type: dict[str, list[float]] = defaultdict(list)
        for run in fetched:
            by_type[run.data_type].append(float(run.platform_response_ms or 0))
        errors = Counter(r.error_class or "unknown" for r in runs if not r.success)
        return LatencyReport(
            overall=_percentiles([float(r.platform_response_ms or 0) for r in fetched]),
            by_data_type={name: _percentiles(values) for name, values in sorted(by_type.items())},
            error_classes=dict(errors.most_common()),
        )

    async def staleness(self) -> list[Staleness]:
        """Every configured area × data type against its publication schedule; sets gauges."""
        now = self._clock()
        newest: dict[tuple[str, str], datetime] = {}
        for end in await self._repository.series_ends():
            zone = area_time_zone(end.area_code)
            series_end = step_end(end.last_start, end.resolution, zone)
            key = (end.area_code, end.data_type)
            if key not in newest or series_end > newest[key]:
                newest[key] = series_end
        report = []
        for name in self._collection.areas:
            area = resolve_area(name)
            zone = area_time_zone(area.eic)
            for data_type in self._collection.data_types:
                expected = PUBLICATION_LAGS[data_type].expected_end(now, zone)
                last_end = newest.get((area.eic, data_type))
                overdue = (expected - last_end).total_seconds() if last_end else None
                label = area_label(area.eic)
                if last_end is not None and overdue is not None:
                    self._metrics.series_age.labels(label, data_type).set(
                        (now - last_end).total_seconds()
                    )
                    self._metrics.series_overdue.labels(label, data_type).set(overdue)
                report.append(
                    Staleness(
                        area=label,
                        data_type=data_type,
                        last_end=last_end,
                        expected_end=expected,
                        overdue_seconds=overdue,
                    )
                )
        return report

    async def summary(self, start: datetime, end: datetime) -> Summary:
        """Totals over ``[start, end)`` plus which series fail or are stale right now."""
        runs: list[RunRow] = [
            r for r in await self._repository.runs_between(start, end) if r.run_kind != "import"
        ]
        failed = sum(not r.success for r in runs)
        latest: dict[tuple[str, str], RunRow] = {}
        for run in runs:
            latest[(area_label(run.area_code), run.data_type)] = run
        failing = sorted(f"{a}/{d}" for (a, d), run in latest.items() if not run.success)
        stale = [f"{s.area}/{s.data_type}" for s in await self.staleness() if s.stale]
        return Summary(
            start=start,
            end=end,
            runs=len(runs),
            failed_runs=failed,
            success_percent=100.0 * (len(runs) - failed) / len(runs) if runs else None,
            points=sum(r.points for r in runs),
            failing_series=failing,
            stale_series=stale,
        )
