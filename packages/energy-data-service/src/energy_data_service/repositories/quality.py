"""All SQL for ``quality_scores`` and the point reads the quality checks need."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import and_, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from energy_data_service.db.monitoring_tables import quality_scores
from energy_data_service.db.tables import point_history, points
from energy_data_service.quality.checks import Observation
from energy_data_service.repositories.catalogue import find_series
from energy_data_service.repositories.point_sql import overlapping

SeriesId = tuple[str, str, str, str, int]
"""area_code, data_type, business_type, resolution, classification_sequence: the key daily
scores are kept under."""


class QualitySeries(NamedTuple):
    """One catalogue series as the checks see it: the score key plus the rest of its identity
    (production type, border, horizon, direction, price category, unit), so production types or
    borders of one area are judged each on their own points."""

    area_code: str
    data_type: str
    business_type: str
    resolution: str
    classification_sequence: int
    out_area_code: str = ""
    psr_type: str = ""
    contract_type: str = ""
    flow_direction: str = ""
    price_category: str = ""
    registered_resource: str = ""

    @property
    def id(self) -> SeriesId:
        """The key its daily score is stored under."""
        return (
            self.area_code,
            self.data_type,
            self.business_type,
            self.resolution,
            self.classification_sequence,
        )


@dataclass(frozen=True)
class StoredScore:
    """One series' score for one local day, as kept."""

    area_code: str
    data_type: str
    business_type: str
    resolution: str
    classification_sequence: int
    day: date
    score: float
    expected: int
    present: int
    missing: int
    invalid: int
    outliers: int
    flat_points: int
    revised_share: float
    forecast_mape: float | None
    computed_at: datetime

    @property
    def series(self) -> SeriesId:
        """The series this score belongs to."""
        return (
            self.area_code,
            self.data_type,
            self.business_type,
            self.resolution,
            self.classification_sequence,
        )


class QualityRepository:
    """Reads points for the checks; keeps one score row per series and day."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def observations(
        self, area_code: str, data_type: str, start: datetime, end: datetime
    ) -> dict[QualitySeries, list[Observation]]:
        """Points of every series of an area × data type overlapping ``[start, end)``, each
        with whether it has had another value (a row in ``point_history``)."""
        p, h = points.c, point_history.c
        revised = (
            select(h.series_id)
            .where(h.series_id == p.series_id, h.timestamp == p.timestamp)
            .exists()
        )
        series: dict[QualitySeries, list[Observation]] = defaultdict(list)
        async with self._engine.connect() as connection:
            for row in await find_series(connection, area_code, data_type):
                query = (
                    select(p.timestamp, p.value, revised)
                    .where(*overlapping(p, row.id, row.resolution, start, end))
                    .order_by(p.timestamp)
                )
                key = QualitySeries(
                    area_code,
                    data_type,
                    row.business_type,
                    row.resolution,
                    row.classification_sequence,
                    row.out_area_code,
                    row.psr_type,
                    row.contract_type,
                    row.flow_direction,
                    row.price_category,
                    row.registered_resource,
                )
                found = [
                    Observation(ts, float(value), bool(changed))
                    for ts, value, changed in await connection.execute(query)
                ]
                if found:
                    series[key].extend(found)
        return dict(series)

    async def series_ids(self, area_code: str, data_type: str) -> list[SeriesId]:
        """Every series stored for an area × data type."""
        async with self._engine.connect() as connection:
            rows = await find_series(connection, area_code, data_type)
        return sorted(
            {
                (area_code, data_type, r.business_type, r.resolution, r.classification_sequence)
                for r in rows
            }
        )

    async def save(self, scores: list[StoredScore]) -> None:
        """Insert or replace the scores (same series and day)."""
        if not scores:
            return
        q = quality_scores.c
        async with self._engine.begin() as connection:
            for score in scores:
                await connection.execute(
                    delete(quality_scores).where(
                        q.area_code == score.area_code,
                        q.data_type == score.data_type,
                        q.business_type == score.business_type,
                        q.resolution == score.resolution,
                        q.classification_sequence == score.classification_sequence,
                        q.day == score.day,
                    )
                )
            await connection.execute(
                insert(quality_scores), [dict(vars(score)) for score in scores]
            )

    async def scores(
        self,
        start_day: date,
        end_day: date,
        area_code: str | None = None,
        data_type: str | None = None,
    ) -> list[StoredScore]:
        """Scores of days in ``[start_day, end_day]``, oldest first."""
        q = quality_scores.c
        query = select(quality_scores).where(q.day >= start_day, q.day <= end_day)
        if area_code is not None:
            query = query.where(q.area_code == area_code)
        if data_type is not None:
            query = query.where(q.data_type == data_type)
        query = query.order_by(q.day, q.area_code, q.data_type, q.resolution)
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [StoredScore(**row) for row in rows]

    async def latest(self) -> list[StoredScore]:
        """Each series' most recent score (what the quality alert rule looks at)."""
        q = quality_scores.c
        newest = (
            select(
                q.area_code,
                q.data_type,
                q.business_type,
                q.resolution,
                q.classification_sequence,
                func.max(q.day).label("day"),
            )
            .group_by(
                q.area_code, q.data_type, q.business_type, q.resolution, q.classification_sequence
            )
            .subquery()
        )
        n = newest.c
        query = select(quality_scores).join(
            newest,
            and_(
                q.area_code == n.area_code,
                q.data_type == n.data_type,
                q.business_type == n.business_type,
                q.resolution == n.resolution,
                q.classification_sequence == n.classification_sequence,
                q.day == n.day,
            ),
        )
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [StoredScore(**row) for row in rows]
