"""All SQL for ``quality_scores`` and the point reads the quality checks need."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import Select, and_, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from energy_data_service.db.monitoring_tables import quality_scores
from energy_data_service.db.tables import point_history, points
from energy_data_service.db.tables import series as series_table
from energy_data_service.quality.checks import Observation
from energy_data_service.repositories.catalogue import find_series
from energy_data_service.repositories.point_sql import overlapping

SeriesId = tuple[str, str, str, str, int]
"""area_code, data_type, business_type, resolution, classification_sequence: the part of a
series' identity every data type has (before migration 0009 the key scores were kept under)."""

IDENTITY = (
    "area_code",
    "data_type",
    "business_type",
    "resolution",
    "classification_sequence",
    "out_area_code",
    "psr_type",
    "contract_type",
    "flow_direction",
    "price_category",
    "registered_resource",
)
"""The ``series`` columns a stored score is read back with."""


class QualitySeries(NamedTuple):
    """One catalogue series as the checks see it: the common key plus the rest of its identity
    (production type, border, horizon, direction, price category, unit) and its ``series.id``,
    so production types or borders of one area are judged and stored each on their own."""

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
    series_id: int = 0

    @property
    def id(self) -> SeriesId:
        """The part of the identity every data type has."""
        return (
            self.area_code,
            self.data_type,
            self.business_type,
            self.resolution,
            self.classification_sequence,
        )


@dataclass(frozen=True)
class StoredScore:
    """One series' score for one local day, as kept (``series_id``) and read back with the
    series' identity from the catalogue."""

    series_id: int
    area_code: str
    data_type: str
    business_type: str
    resolution: str
    classification_sequence: int
    out_area_code: str
    psr_type: str
    contract_type: str
    flow_direction: str
    price_category: str
    registered_resource: str
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
    def series(self) -> int:
        """The series this score belongs to (``series.id``)."""
        return self.series_id


_FIGURES = (
    "score",
    "expected",
    "present",
    "missing",
    "invalid",
    "outliers",
    "flat_points",
    "revised_share",
    "forecast_mape",
    "computed_at",
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
                    row.id,
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
                    delete(quality_scores).where(q.series_id == score.series_id, q.day == score.day)
                )
            await connection.execute(
                insert(quality_scores),
                [
                    {
                        "series_id": score.series_id,
                        "day": score.day,
                        **{name: getattr(score, name) for name in _FIGURES},
                    }
                    for score in scores
                ],
            )

    async def scores(
        self,
        start_day: date,
        end_day: date,
        area_code: str | None = None,
        data_type: str | None = None,
    ) -> list[StoredScore]:
        """Scores of days in ``[start_day, end_day]``, oldest first, each with its series'
        identity (scores of a series no longer in the catalogue are not read)."""
        q, s = quality_scores.c, series_table.c
        query = _with_identity().where(q.day >= start_day, q.day <= end_day)
        if area_code is not None:
            query = query.where(s.area_code == area_code)
        if data_type is not None:
            query = query.where(s.data_type == data_type)
        query = query.order_by(q.day, s.area_code, s.data_type, s.resolution, q.series_id)
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [StoredScore(**row) for row in rows]

    async def latest(self) -> list[StoredScore]:
        """Each series' most recent score (what the quality alert rule looks at)."""
        q = quality_scores.c
        newest = select(q.series_id, func.max(q.day).label("day")).group_by(q.series_id).subquery()
        n = newest.c
        query = _with_identity().join(newest, and_(q.series_id == n.series_id, q.day == n.day))
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [StoredScore(**row) for row in rows]


def _with_identity() -> Select[Any]:
    """Stored scores joined with their series' identity columns."""
    q, s = quality_scores.c, series_table.c
    return select(
        q.series_id,
        *(s[name] for name in IDENTITY),
        q.day,
        *(q[name] for name in _FIGURES),
    ).select_from(quality_scores.join(series_table, s.id == q.series_id))
