"""``DataQualityService``: daily quality of every stored series, and remediation of its gaps.

For one local day per area it reads each series of each configured data type, runs the checks of
``quality.score.assess_day`` (completeness at the series' own resolution, value limits, outliers
against the same hour of recent weeks, flat lines, revision churn, forecast error against actual
load), stores the day's score per series (``series.id``) and reports it with a trend against the
same series' scores of the previous week.
``remediate`` sends the missing intervals back to ``CollectionService`` to be fetched again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import structlog

from energy_data_service.domain import area_label, area_time_zone, resolve_area, step_end
from energy_data_service.monitoring.metrics import ServiceMetrics
from energy_data_service.processors.transmission import CONTRACT_TYPED
from energy_data_service.quality.capacity_years import (
    YearFinding,
    capacity_year_findings,
    holds_yearly_capacity,
    local_year_bounds,
)
from energy_data_service.quality.checks import Observation, gap_ranges
from energy_data_service.quality.days import local_day_bounds
from energy_data_service.quality.score import DayQuality, assess_day, trend
from energy_data_service.quality.settings import QualitySettings
from energy_data_service.repositories.quality import (
    QualityRepository,
    QualitySeries,
    StoredScore,
)
from energy_data_service.series_domains import is_consumption, is_directional
from energy_data_service.settings import CollectionSettings

if TYPE_CHECKING:
    from energy_data_service.services.collection import CollectionService

log = structlog.get_logger(__name__)

TREND_DAYS = 7
"""Scores of this many previous days make the baseline of the trend."""


@dataclass(frozen=True)
class SeriesQuality:
    """One series' quality on one day, as reported."""

    area: str
    area_code: str
    data_type: str
    business_type: str
    resolution: str
    classification_sequence: int
    quality: DayQuality
    trend: float | None
    gaps: list[tuple[datetime, datetime]]
    identity: QualitySeries
    """The series' whole identity (production type, border, horizon …, its ``series.id``):
    the key its daily score is stored under."""
    findings: list[YearFinding] = field(default_factory=list)
    """Rules broken over more than the day: a capacity held for a year that changes within the
    local year the day lies in (``quality.capacity_years``)."""

    def label(self) -> str:
        """The series in one line: area/type/business type/resolution and what sets it apart."""
        whole = self.identity
        extra = [
            f"{name}={value}"
            for name, value in (
                ("psr_type", whole.psr_type),
                ("out_area", whole.out_area_code and area_label(whole.out_area_code)),
                ("contract_type", whole.contract_type),
                ("direction", whole.flow_direction),
                ("price_category", whole.price_category),
                ("resource", whole.registered_resource),
            )
            if value
        ]
        base = f"{self.area}/{self.data_type}/{self.business_type}/{self.resolution}"
        return " ".join([base, *extra])

    def as_json(self) -> dict[str, Any]:
        """The report's entry for this series (what the API and the CLI print)."""
        q = self.quality
        whole = self.identity
        return {
            "area": self.area,
            "area_code": self.area_code,
            "data_type": self.data_type,
            "business_type": self.business_type,
            "resolution": self.resolution,
            "classification_sequence": self.classification_sequence,
            "series_id": whole.series_id,
            "out_area_code": whole.out_area_code,
            "psr_type": whole.psr_type,
            "contract_type": whole.contract_type,
            "flow_direction": whole.flow_direction,
            "price_category": whole.price_category,
            "registered_resource": whole.registered_resource,
            "score": q.score,
            "trend": self.trend,
            "completeness_percent": round(q.completeness, 2),
            "expected_intervals": q.expected,
            "present_points": q.present,
            "missing_intervals": len(q.missing),
            "gaps": [{"start": s.isoformat(), "end": e.isoformat()} for s, e in self.gaps],
            "invalid_values": q.invalid,
            "outliers": q.outliers,
            "outlier_times": [t.isoformat() for t in q.outlier_times],
            "flat_line_points": q.flat_points,
            "revised_share": round(q.revised_share, 4),
            "forecast_mape_percent": None if q.forecast_mape is None else round(q.forecast_mape, 2),
            "findings": [
                {**f.as_json(), "message": f.describe(self.label())} for f in self.findings
            ],
        }


@dataclass(frozen=True)
class QualityReport:
    """Every series' quality for one day, plus configured series that have no data at all."""

    day: date
    generated_at: datetime
    series: list[SeriesQuality]
    without_data: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The daily report as a JSON object."""
        scores = [s.quality.score for s in self.series]
        worst = min(self.series, key=lambda s: s.quality.score, default=None)
        return {
            "date": self.day.isoformat(),
            "generated_at": self.generated_at.isoformat(),
            "summary": {
                "series": len(self.series),
                "mean_score": round(sum(scores) / len(scores), 1) if scores else None,
                "worst": None
                if worst is None
                else f"{worst.area}/{worst.data_type}/{worst.resolution}",
                "missing_intervals": sum(len(s.quality.missing) for s in self.series),
                "without_data": self.without_data,
                "findings": sum(len(s.findings) for s in self.series),
            },
            "series": [s.as_json() for s in self.series],
        }


@dataclass(frozen=True)
class Remediation:
    """One re-fetch of missing data."""

    area: str
    data_type: str
    start: datetime
    end: datetime
    points: int
    error: str | None


class DataQualityService:
    """Scores stored series per day and sends their gaps back for re-fetching."""

    def __init__(
        self,
        *,
        repository: QualityRepository,
        settings: QualitySettings,
        collection: CollectionSettings,
        collection_service: Callable[[], Awaitable[CollectionService]] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        metrics: ServiceMetrics | None = None,
    ) -> None:
        self._metrics = metrics or ServiceMetrics()
        self._repository = repository
        self._settings = settings
        self._collection = collection
        self._collection_service = collection_service
        self._clock = clock

    def yesterday(self) -> date:
        """The default report day: the last complete UTC day."""
        return (self._clock() - timedelta(days=1)).date()

    async def report(
        self,
        day: date,
        areas: Sequence[str] | None = None,
        data_types: Sequence[str] | None = None,
    ) -> QualityReport:
        """Assess ``day`` for the areas × data types (default: configured), store the scores."""
        chosen_areas = [resolve_area(a) for a in (areas or self._collection.areas)]
        chosen_types = list(data_types or self._collection.data_types)
        results: list[SeriesQuality] = []
        without: list[str] = []
        for area in chosen_areas:
            zone = area_time_zone(area.eic)
            start, end = local_day_bounds(day, zone)
            history_start = start - timedelta(weeks=self._settings.outlier_weeks, days=1)
            actual = await self._repository.observations(area.eic, "actual_load", start, end)
            actual_day = max(actual.values(), key=len, default=[])
            for data_type in chosen_types:
                stored = await self._repository.observations(
                    area.eic, data_type, history_start, end
                )
                if not stored:
                    without.append(f"{area_label(area.eic)}/{data_type}")
                    continue
                assessed = [
                    self._assess(series, observations, day, zone, start, end, actual_day)
                    for series, observations in sorted(stored.items())
                ]
                if holds_yearly_capacity(data_type):
                    assessed = await self._year_findings(assessed, day, zone)
                # A series that ended (prices went from PT60M to PT15M on 2025-10-01) is not
                # missing data while another series of the same area and type covers the day.
                if any(a.quality.present for a in assessed):
                    assessed = [a for a in assessed if a.quality.present]
                results.extend(assessed)
        previous = await self._repository.scores(
            day - timedelta(days=TREND_DAYS), day - timedelta(days=1)
        )
        by_series: dict[int, list[float]] = {}
        for score in previous:
            by_series.setdefault(score.series, []).append(score.score)
        results = [
            replace(r, trend=trend(r.quality.score, by_series.get(r.identity.series_id, [])))
            for r in results
        ]
        now = self._clock()
        await self._repository.save([_stored(r, now) for r in results])
        for r in results:
            self._metrics.quality_score.labels(r.area, r.data_type, r.resolution).set(
                r.quality.score
            )
        return QualityReport(day=day, generated_at=now, series=results, without_data=without)

    async def _year_findings(
        self, assessed: list[SeriesQuality], day: date, zone: ZoneInfo
    ) -> list[SeriesQuality]:
        """Add the findings of the local year ``day`` lies in to each capacity series."""
        if not assessed:
            return assessed
        first = assessed[0]
        year_start, year_end = local_year_bounds(day.year, zone)
        year = await self._repository.observations(
            first.area_code, first.data_type, year_start, year_end
        )
        done = []
        for result in assessed:
            whole = result.identity
            inside = [o for o in year.get(whole, []) if year_start <= o.timestamp < year_end]
            findings = capacity_year_findings(inside, zone)
            for finding in findings:
                log.warning("quality.capacity_year", finding=finding.describe(result.label()))
            done.append(replace(result, findings=findings))
        return done

    def _assess(
        self,
        series: QualitySeries,
        observations: list[Observation],
        day: date,
        zone: ZoneInfo,
        start: datetime,
        end: datetime,
        actual_day: list[Observation],
    ) -> SeriesQuality:
        area_code, data_type, business_type, resolution, sequence = series.id
        long_steps = step_end(start, resolution, zone) - start >= timedelta(hours=23)
        in_day = [
            o
            for o in observations
            if start <= o.timestamp < end
            or (long_steps and o.timestamp <= start < step_end(o.timestamp, resolution, zone))
        ]
        history = {o.timestamp: o.value for o in observations if o.timestamp < start}
        quality = assess_day(
            day=day,
            zone=zone,
            data_type=data_type,
            resolution=resolution,
            points=in_day,
            history=history,
            actual_load=actual_day if data_type != "actual_load" else None,
            settings=self._settings,
            consumption=is_consumption(data_type, area_code, series.out_area_code),
        )
        return SeriesQuality(
            area=area_label(area_code),
            area_code=area_code,
            data_type=data_type,
            business_type=business_type,
            resolution=resolution,
            classification_sequence=sequence,
            quality=quality,
            trend=None,
            gaps=gap_ranges(quality.missing, resolution, zone),
            identity=series,
        )

    async def scores(
        self,
        start_day: date,
        end_day: date,
        area: str | None = None,
        data_type: str | None = None,
    ) -> list[StoredScore]:
        """Stored daily scores in ``[start_day, end_day]``."""
        area_code = resolve_area(area).eic if area else None
        return await self._repository.scores(start_day, end_day, area_code, data_type)

    async def remediate(self, report: QualityReport) -> list[Remediation]:
        """Re-fetch every gap of the report through ``CollectionService`` (one run per gap)."""
        if not any(series.gaps for series in report.series):
            return []
        if self._collection_service is None:
            raise RuntimeError("remediation needs the ENTSO-E data service (no token?)")
        service = await self._collection_service()
        done = []
        for series in report.series:
            area = resolve_area(series.area_code)
            whole = series.identity
            out_area = (
                resolve_area(whole.out_area_code)
                if whole.out_area_code and is_directional(series.data_type)
                else None
            )
            contract = (whole.contract_type or None) if series.data_type in CONTRACT_TYPED else None
            for start, end in series.gaps:
                result = await service.collect_range(
                    area,
                    series.data_type,
                    start,
                    end,
                    run_kind="gap_fill",
                    out_area=out_area,
                    contract_type=contract,
                )
                done.append(
                    Remediation(
                        area=series.area,
                        data_type=series.data_type,
                        start=start,
                        end=end,
                        points=result.points,
                        error=result.error,
                    )
                )
                log.info(
                    "quality.remediated",
                    area=series.area,
                    data_type=series.data_type,
                    start=start.isoformat(),
                    end=end.isoformat(),
                    points=result.points,
                    error=result.error,
                )
        return done


def _stored(result: SeriesQuality, now: datetime) -> StoredScore:
    q, whole = result.quality, result.identity
    return StoredScore(
        series_id=whole.series_id,
        area_code=whole.area_code,
        data_type=whole.data_type,
        business_type=whole.business_type,
        resolution=whole.resolution,
        classification_sequence=whole.classification_sequence,
        out_area_code=whole.out_area_code,
        psr_type=whole.psr_type,
        contract_type=whole.contract_type,
        flow_direction=whole.flow_direction,
        price_category=whole.price_category,
        registered_resource=whole.registered_resource,
        day=q.day,
        score=q.score,
        expected=q.expected,
        present=q.present,
        missing=len(q.missing),
        invalid=q.invalid,
        outliers=q.outliers,
        flat_points=q.flat_points,
        revised_share=q.revised_share,
        forecast_mape=q.forecast_mape,
        computed_at=now,
    )
