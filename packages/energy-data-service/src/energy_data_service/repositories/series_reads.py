"""SQL behind the read side of the REST API: pick a series, page it, stream it, aggregate it.

An area × data type can hold several series (PT60M and PT15M prices, DE_LU's two price
sequences, different business types). A request names area and data type, optionally the
resolution and sequence; ``series_in_range`` lists what exists so the API can choose one and say
which others exist. Every query then filters on the full series key, which is the leading part
of the primary key, so pages and streams are index range scans.

Aggregation buckets are computed in Python from the area's time zone (a local day is 23, 24 or
25 hours) and handed to the database as a bucket table; the database does the mean/min/max. The
same SQL runs on SQLite, which has no time-zone support, and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Float, Integer, and_, column, func, select, values
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import ColumnElement

from energy_data_service.db.tables import UtcDateTime, energy_points

points = energy_points.c

LatestPoint = tuple["SeriesKey", datetime, float]


@dataclass(frozen=True)
class SeriesKey:
    """Everything of the primary key except the timestamp, plus the unit the series is in."""

    area_code: str
    data_type: str
    business_type: str
    resolution: str
    classification_sequence: int
    unit: str


@dataclass(frozen=True)
class Aggregate:
    """Mean, min and max of one bucket ``[start, end)``; ``count`` points fell into it."""

    start: datetime
    end: datetime
    mean: float
    min: float
    max: float
    count: int


def _series_filter(series: SeriesKey) -> list[ColumnElement[bool]]:
    return [
        points.area_code == series.area_code,
        points.data_type == series.data_type,
        points.business_type == series.business_type,
        points.resolution == series.resolution,
        points.classification_sequence == series.classification_sequence,
    ]


class SeriesReadRepository:
    """Read-only queries over ``energy_points`` for the API."""

    def __init__(self, engine: AsyncEngine, latest_cache_seconds: float = 0.0) -> None:
        self._engine = engine
        self._latest_ttl = latest_cache_seconds
        self._latest_cache: dict[tuple[str, str], tuple[float, LatestPoint | None]] = {}
        self._latest_pending: dict[tuple[str, str], asyncio.Future[LatestPoint | None]] = {}

    async def series_in_range(
        self, area_code: str, data_type: str, start: datetime | None, end: datetime | None
    ) -> list[SeriesKey]:
        """The distinct series of an area × data type with points in ``[start, end)``."""
        query = (
            select(
                points.business_type,
                points.resolution,
                points.classification_sequence,
                func.min(points.unit),
            )
            .where(points.area_code == area_code, points.data_type == data_type)
            .group_by(points.business_type, points.resolution, points.classification_sequence)
        )
        if start is not None:
            query = query.where(points.timestamp >= start)
        if end is not None:
            query = query.where(points.timestamp < end)
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [
            SeriesKey(area_code, data_type, business, resolution, int(sequence), str(unit))
            for business, resolution, sequence, unit in rows
        ]

    async def page(
        self,
        series: SeriesKey,
        start: datetime,
        end: datetime,
        *,
        after: datetime | None,
        limit: int,
    ) -> list[tuple[datetime, float]]:
        """Up to ``limit`` points in time order, strictly after ``after`` when given (keyset)."""
        lower = points.timestamp > after if after is not None else points.timestamp >= start
        query = (
            select(points.timestamp, points.value)
            .where(*_series_filter(series), lower, points.timestamp < end)
            .order_by(points.timestamp)
            .limit(limit)
        )
        async with self._engine.connect() as connection:
            result = await connection.execute(query)
            return [(row[0], row[1]) for row in result]

    async def stream(
        self,
        series: SeriesKey,
        start: datetime,
        end: datetime,
        *,
        batch_size: int = 5000,
    ) -> AsyncIterator[list[tuple[datetime, float]]]:
        """The points of ``[start, end)`` in batches, never the whole range in memory."""
        after: datetime | None = None
        while True:
            batch = await self.page(series, start, end, after=after, limit=batch_size)
            if batch:
                yield batch
            if len(batch) < batch_size:
                return
            after = batch[-1][0]

    async def latest(self, area_code: str, data_type: str) -> LatestPoint | None:
        """The most recent point of any series of an area × data type (first sequence on ties).

        Polled by many clients at once while it changes every 15 minutes at most, so the answer
        is kept for ``latest_cache_seconds`` (it may lag a new point by that much).
        """
        key = (area_code, data_type)
        now = time.monotonic()
        cached = self._latest_cache.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        if self._latest_ttl <= 0:
            return await self._latest_from_database(area_code, data_type)
        # One query per expiry however many clients ask at that moment (no stampede on the pool).
        pending = self._latest_pending.get(key)
        if pending is None:
            pending = asyncio.ensure_future(self._latest_from_database(area_code, data_type))
            self._latest_pending[key] = pending
            pending.add_done_callback(lambda _: self._latest_pending.pop(key, None))
        found = await asyncio.shield(pending)
        self._latest_cache[key] = (now + self._latest_ttl, found)
        return found

    async def _latest_from_database(self, area_code: str, data_type: str) -> LatestPoint | None:
        # The newest timestamp comes from the index alone (``max``); only the few rows at that
        # instant are then ordered, so the answer costs the same for a day or a decade of data.
        this_series = (points.area_code == area_code, points.data_type == data_type)
        newest = select(func.max(points.timestamp)).where(*this_series).scalar_subquery()
        query = (
            select(
                points.business_type,
                points.resolution,
                points.classification_sequence,
                points.unit,
                points.timestamp,
                points.value,
            )
            .where(*this_series, points.timestamp == newest)
            .order_by(points.classification_sequence, points.resolution)
            .limit(1)
        )
        async with self._engine.connect() as connection:
            row = (await connection.execute(query)).first()
        if row is None:
            return None
        business, resolution, sequence, unit, timestamp, value = row
        key = SeriesKey(area_code, data_type, business, resolution, int(sequence), unit)
        return key, timestamp, value

    async def aggregate(
        self, series: SeriesKey, buckets: Sequence[tuple[datetime, datetime]]
    ) -> list[Aggregate]:
        """Mean/min/max per bucket, computed by the database; empty buckets are left out."""
        if not buckets:
            return []
        # A CTE with column names: SQLite accepts no column aliases on a VALUES subquery.
        table = (
            values(
                column("bucket_start", UtcDateTime),
                column("bucket_end", UtcDateTime),
                name="bucket_values",
            )
            .data(list(buckets))
            .cte("buckets")
        )
        query = (
            select(
                table.c.bucket_start,
                table.c.bucket_end,
                func.avg(points.value).cast(Float),
                func.min(points.value),
                func.max(points.value),
                func.count().cast(Integer),
            )
            .select_from(
                table.join(
                    energy_points,
                    and_(
                        *_series_filter(series),
                        points.timestamp >= table.c.bucket_start,
                        points.timestamp < table.c.bucket_end,
                    ),
                )
            )
            .group_by(table.c.bucket_start, table.c.bucket_end)
            .order_by(table.c.bucket_start)
        )
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [
            Aggregate(_utc(start), _utc(end), float(mean), float(low), float(high), int(count))
            for start, end, mean, low, high, count in rows
        ]


def _utc(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
