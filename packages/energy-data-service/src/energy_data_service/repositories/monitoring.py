"""Reads behind monitoring: runs from ``collection_runs``, each series' newest point (from the
``series`` catalogue, which keeps it, so no point is scanned).

Percentiles and rates are computed in Python over the selected rows so the same code answers
on SQLite and PostgreSQL; a day of runs is a few hundred rows.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from energy_data_service.alerts.rules import RunOutcome
from energy_data_service.db.tables import collection_runs, series


@dataclass(frozen=True)
class RunRow:
    """The monitoring view of one collection run."""

    run_kind: str
    area_code: str
    data_type: str
    started_at: datetime
    finished_at: datetime
    points: int
    success: bool
    error_class: str | None
    error_text: str | None
    platform_response_ms: float | None
    processing_ms: float | None


@dataclass(frozen=True)
class SeriesEnd:
    """Newest stored interval start of one area × data type × resolution."""

    area_code: str
    data_type: str
    resolution: str
    last_start: datetime


class MonitoringRepository:
    """Read-only queries for ``MonitoringService`` and the alert rules."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def runs_between(self, start: datetime, end: datetime) -> list[RunRow]:
        """Runs that finished in ``[start, end)``, oldest first."""
        r = collection_runs.c
        query = (
            select(
                r.run_kind,
                r.area_code,
                r.data_type,
                r.started_at,
                r.finished_at,
                r.points,
                r.success,
                r.error_class,
                r.error_text,
                r.platform_response_ms,
                r.processing_ms,
            )
            .where(r.finished_at >= start, r.finished_at < end)
            .order_by(r.finished_at, r.id)
        )
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [RunRow(**row) for row in rows]

    async def latest_runs(self, per_series: int) -> list[list[RunOutcome]]:
        """The newest ``per_series`` runs of every area × data type, newest first.

        Import runs are left out: importing a file says nothing about the platform.
        """
        r = collection_runs.c
        rank = (
            func.row_number()
            .over(
                partition_by=(r.area_code, r.data_type),
                order_by=(r.finished_at.desc(), r.id.desc()),
            )
            .label("rank")
        )
        ranked = (
            select(
                r.area_code,
                r.data_type,
                r.finished_at,
                r.success,
                r.error_class,
                r.error_text,
                rank,
            )
            .where(r.run_kind != "import")
            .subquery()
        )
        c = ranked.c
        query = (
            select(c.area_code, c.data_type, c.finished_at, c.success, c.error_class, c.error_text)
            .where(c.rank <= per_series)
            .order_by(c.area_code, c.data_type, c.rank)
        )
        series: dict[tuple[str, str], list[RunOutcome]] = defaultdict(list)
        async with self._engine.connect() as connection:
            for row in await connection.execute(query):
                series[(row[0], row[1])].append(
                    RunOutcome(
                        area=row[0],
                        data_type=row[1],
                        finished_at=row[2],
                        success=bool(row[3]),
                        error_class=row[4],
                        error_text=row[5],
                    )
                )
        return list(series.values())

    async def series_ends(self) -> list[SeriesEnd]:
        """Newest interval start per area × data type × resolution.

        ``max`` keeps the column's type, so SQLite's text comes back as an aware datetime.
        """
        p = series.c
        query = select(p.area_code, p.data_type, p.resolution, func.max(p.last_timestamp)).group_by(
            p.area_code, p.data_type, p.resolution
        )
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [
            SeriesEnd(area_code=a, data_type=d, resolution=res, last_start=last)
            for a, d, res, last in rows
        ]
