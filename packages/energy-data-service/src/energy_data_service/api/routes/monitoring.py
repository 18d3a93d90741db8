"""``/api/v1/monitoring``: is collection healthy? Success rates, latency, staleness, summary."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel

from energy_data_service.api.bounds import bounded_time
from energy_data_service.api.deps import AlertServiceDep, ApiKeyDep, MonitoringServiceDep
from energy_data_service.services import run_monitoring as service
from energy_data_service.services.run_monitoring import MonitoringService

router = APIRouter(prefix="/api/v1/monitoring", tags=["monitoring"], dependencies=[ApiKeyDep])

StartQuery = Annotated[
    datetime | None, Query(description="Period start (default: end - 24 h); no offset means UTC")
]
EndQuery = Annotated[datetime | None, Query(description="Period end (default: now)")]


class SeriesSuccess(BaseModel):
    area: str
    data_type: str
    runs: int
    successes: int
    success_percent: float


class Percentiles(BaseModel):
    count: int
    p50_ms: float | None
    p90_ms: float | None
    p99_ms: float | None
    max_ms: float | None


class Latency(BaseModel):
    start_time: datetime
    end_time: datetime
    overall: Percentiles
    by_data_type: dict[str, Percentiles]
    error_classes: dict[str, int]


class SeriesStaleness(BaseModel):
    area: str
    data_type: str
    last_end: datetime | None
    expected_end: datetime
    overdue_seconds: float | None
    stale: bool


class Summary(BaseModel):
    start_time: datetime
    end_time: datetime
    runs: int
    failed_runs: int
    success_percent: float | None
    points: int
    failing_series: list[str]
    stale_series: list[str]
    active_alerts: int


def _period(
    monitoring: MonitoringService, start: datetime | None, end: datetime | None
) -> tuple[datetime, datetime]:
    until = bounded_time(end, "end_time") if end else monitoring.now()
    since = bounded_time(start, "start_time") if start else until - timedelta(hours=24)
    if since >= until:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            f"start_time ({since.isoformat()}) must be before end_time ({until.isoformat()})",
        )
    return since, until


@router.get("/summary", response_model=Summary, summary="Runs, failures, stale series, alerts")
async def summary(
    monitoring: MonitoringServiceDep,
    alerts: AlertServiceDep,
    start_time: StartQuery = None,
    end_time: EndQuery = None,
) -> Summary:
    start, end = _period(monitoring, start_time, end_time)
    totals = await monitoring.summary(start, end)
    active = await alerts.listing(state=None, limit=1000)
    return Summary(
        start_time=start,
        end_time=end,
        runs=totals.runs,
        failed_runs=totals.failed_runs,
        success_percent=totals.success_percent,
        points=totals.points,
        failing_series=totals.failing_series,
        stale_series=totals.stale_series,
        active_alerts=sum(a.state != "resolved" for a in active),
    )


@router.get(
    "/success-rates",
    response_model=list[SeriesSuccess],
    summary="Share of successful runs per area × data type",
)
async def success_rates(
    monitoring: MonitoringServiceDep, start_time: StartQuery = None, end_time: EndQuery = None
) -> list[SeriesSuccess]:
    start, end = _period(monitoring, start_time, end_time)
    return [
        SeriesSuccess(
            area=r.area,
            data_type=r.data_type,
            runs=r.runs,
            successes=r.successes,
            success_percent=round(r.percent, 2),
        )
        for r in await monitoring.success_rates(start, end)
    ]


@router.get("/latency", response_model=Latency, summary="Platform response-time percentiles")
async def latency(
    monitoring: MonitoringServiceDep, start_time: StartQuery = None, end_time: EndQuery = None
) -> Latency:
    start, end = _period(monitoring, start_time, end_time)
    report = await monitoring.latency(start, end)

    def shape(p: service.Percentiles) -> Percentiles:
        return Percentiles(
            count=p.count,
            p50_ms=p.p50,
            p90_ms=p.p90,
            p99_ms=p.p99,
            max_ms=p.max,
        )

    return Latency(
        start_time=start,
        end_time=end,
        overall=shape(report.overall),
        by_data_type={name: shape(p) for name, p in report.by_data_type.items()},
        error_classes=report.error_classes,
    )


@router.get(
    "/staleness",
    response_model=list[SeriesStaleness],
    summary="Newest data per series against its publication schedule",
)
async def staleness(monitoring: MonitoringServiceDep) -> list[SeriesStaleness]:
    return [
        SeriesStaleness(
            area=s.area,
            data_type=s.data_type,
            last_end=s.last_end,
            expected_end=s.expected_end,
            overdue_seconds=s.overdue_seconds,
            stale=s.stale,
        )
        for s in await monitoring.staleness()
    ]
