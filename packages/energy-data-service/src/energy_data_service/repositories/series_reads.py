"""SQL behind the read side of the REST API: pick a series, page it, stream it, aggregate it.

An area × data type can hold several series (PT60M and PT15M prices, DE_LU's two price
sequences, different business types). A request names area and data type, optionally the
resolution and sequence; ``series_in_range`` lists what the catalogue holds so the API can
choose one and say which others exist. Every query then filters on the series id, the leading
column of the points' primary key, so pages and streams are index range scans. Each read can
be made ``as_of`` an instant: the values as they were known then (``point_sql``).

Aggregation buckets are computed in Python from the area's time zone (a local day is 23, 24 or
25 hours) and handed to the database as a bucket table; the database does the mean/min/max. The
same SQL runs on SQLite, which has no time-zone support, and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Float, Integer, and_, column, func, select, values
from sqlalchemy.ext.asyncio import AsyncEngine

from energy_data_service.db.tables import EpochSeconds, fetches, point_history, points
from energy_data_service.repositories.catalogue import SeriesRow, find_series
from energy_data_service.repositories.point_sql import longest_step, overlapping, point_rows

LatestPoint = tuple["SeriesKey", datetime, float]
Row = tuple[datetime, float, float | None]
"""(interval start, value, price) of one point as the API serves it."""


@dataclass(frozen=True)
class SeriesKey:
    """A series as the API names it, plus its catalogue id and the unit it is in."""

    area_code: str
    data_type: str
    business_type: str
    resolution: str
    classification_sequence: int
    unit: str
    series_id: int = 0
    out_area_code: str = ""
    psr_type: str = ""
    contract_type: str = ""
    flow_direction: str = ""
    price_category: str = ""
    registered_resource: str = ""

    @classmethod
    def of(cls, row: SeriesRow) -> SeriesKey:
        """The key of a catalogue row."""
        return cls(
            row.area_code,
            row.data_type,
            row.business_type,
            row.resolution,
            row.classification_sequence,
            row.unit,
            row.id,
            row.out_area_code,
            row.psr_type,
            row.contract_type,
            row.flow_direction,
            row.price_category,
            row.registered_resource,
        )


@dataclass(frozen=True)
class Version:
    """One value a point has had, and the span in which it was the stored one."""

    timestamp: datetime
    value: float
    price: float | None
    known_from: datetime
    known_until: datetime | None
    document_mrid: str
    revision_number: int
    document_created_at: datetime | None
    fetched_at: datetime


@dataclass(frozen=True)
class Aggregate:
    """Mean, min and max of one bucket ``[start, end)``; ``count`` points fell into it."""

    start: datetime
    end: datetime
    mean: float
    min: float
    max: float
    count: int


class SeriesReadRepository:
    """Read-only queries over ``energy_points`` for the API."""

    def __init__(self, engine: AsyncEngine, latest_cache_seconds: float = 0.0) -> None:
        self._engine = engine
        self._latest_ttl = latest_cache_seconds
        self._latest_cache: dict[tuple[Any, ...], tuple[float, LatestPoint | None]] = {}
        self._latest_pending: dict[tuple[Any, ...], asyncio.Future[LatestPoint | None]] = {}

    async def series_in_range(
        self,
        area_code: str,
        data_type: str,
        start: datetime | None,
        end: datetime | None,
        as_of: datetime | None = None,
    ) -> list[SeriesKey]:
        """The series of an area × data type whose stored span overlaps ``[start, end)``
        (and, ``as_of`` an instant, that had been fetched by then), from the catalogue."""
        async with self._engine.connect() as connection:
            catalogue = await find_series(connection, area_code, data_type)
        return [
            SeriesKey.of(row)
            for row in catalogue
            if (end is None or row.first_timestamp < end)
            and (start is None or row.last_timestamp > start - longest_step(row.resolution))
            and (as_of is None or row.first_fetched_at <= as_of)
        ]

    async def page(
        self,
        series: SeriesKey,
        start: datetime,
        end: datetime,
        *,
        after: datetime | None,
        limit: int,
        as_of: datetime | None = None,
    ) -> list[Row]:
        """Up to ``limit`` points overlapping ``[start, end)`` in time order, strictly after
        ``after`` when given (keyset); ``as_of`` an instant, the values known then."""

        def where(columns: Any) -> list[Any]:
            conditions = overlapping(columns, series.series_id, series.resolution, start, end)
            if after is not None:
                conditions.append(columns["timestamp"] > after)
            return conditions

        query = point_rows(("timestamp", "value", "price"), where, as_of, limit=limit)
        async with self._engine.connect() as connection:
            result = await connection.execute(query)
            return [(row[0], row[1], row[2]) for row in result]

    async def stream(
        self,
        series: SeriesKey,
        start: datetime,
        end: datetime,
        *,
        batch_size: int = 5000,
        as_of: datetime | None = None,
    ) -> AsyncIterator[list[Row]]:
        """The points of ``[start, end)`` in batches, never the whole range in memory."""
        after: datetime | None = None
        while True:
            batch = await self.page(series, start, end, after=after, limit=batch_size, as_of=as_of)
            if batch:
                yield batch
            if len(batch) < batch_size:
                return
            after = batch[-1][0]

    async def latest(
        self,
        area_code: str,
        data_type: str,
        as_of: datetime | None = None,
        **identity: str,
    ) -> LatestPoint | None:
        """The most recent point of any series of an area × data type (first sequence on ties);
        ``identity`` narrows the series (``psr_type=``, ``out_area_code=``, …).

        Polled by many clients at once while it changes every 15 minutes at most, so the answer
        is kept for ``latest_cache_seconds`` (it may lag a new point by that much); an ``as_of``
        read is about the past and is never cached.
        """
        if as_of is not None:
            return await self._latest_from_database(area_code, data_type, as_of, identity)
        key = (area_code, data_type, *sorted(identity.items()))
        now = time.monotonic()
        cached = self._latest_cache.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        if self._latest_ttl <= 0:
            return await self._latest_from_database(area_code, data_type, None, identity)
        # One query per expiry however many clients ask at that moment (no stampede on the pool).
        pending = self._latest_pending.get(key)
        if pending is None:
            pending = asyncio.ensure_future(
                self._latest_from_database(area_code, data_type, None, identity)
            )
            self._latest_pending[key] = pending
            pending.add_done_callback(lambda _: self._latest_pending.pop(key, None))
        found = await asyncio.shield(pending)
        self._latest_cache[key] = (now + self._latest_ttl, found)
        return found

    async def _latest_from_database(
        self,
        area_code: str,
        data_type: str,
        as_of: datetime | None = None,
        identity: dict[str, str] | None = None,
    ) -> LatestPoint | None:
        # The newest start per series comes from the index alone (``max``); only that row is
        # then read, so the answer costs the same for a day or a decade of data.
        async with self._engine.connect() as connection:
            catalogue = await find_series(connection, area_code, data_type, **(identity or {}))
            ends: list[tuple[datetime, SeriesRow]] = []
            for row in catalogue:
                rows = point_rows(("timestamp",), lambda c, i=row.id: [c["series_id"] == i], as_of)
                found = await connection.scalar(select(func.max(rows.subquery().c.timestamp)))
                if found is not None:
                    ends.append((found, row))
            if not ends:
                return None
            timestamp = max(end for end, _ in ends)
            chosen = min(
                (row for end, row in ends if end == timestamp),
                key=lambda row: (row.classification_sequence, row.resolution),
            )
            query = point_rows(
                ("timestamp", "value"),
                lambda c: [c["series_id"] == chosen.id, c["timestamp"] == timestamp],
                as_of,
            )
            value = (await connection.execute(query)).one()[1]
        return SeriesKey.of(chosen), timestamp, value

    async def aggregate(
        self,
        series: SeriesKey,
        buckets: Sequence[tuple[datetime, datetime]],
        as_of: datetime | None = None,
    ) -> list[Aggregate]:
        """Mean/min/max per bucket (points by their start), computed by the database; empty
        buckets are left out."""
        if not buckets:
            return []
        # A CTE with column names: SQLite accepts no column aliases on a VALUES subquery.
        table = (
            values(
                column("bucket_start", EpochSeconds),
                column("bucket_end", EpochSeconds),
                name="bucket_values",
            )
            .data(list(buckets))
            .cte("buckets")
        )
        first, last = buckets[0][0], buckets[-1][1]
        rows = point_rows(
            ("timestamp", "value"),
            lambda c: [
                c["series_id"] == series.series_id,
                c["timestamp"] >= first,
                c["timestamp"] < last,
            ],
            as_of,
        ).subquery()
        query = (
            select(
                table.c.bucket_start,
                table.c.bucket_end,
                func.avg(rows.c.value).cast(Float),
                func.min(rows.c.value),
                func.max(rows.c.value),
                func.count().cast(Integer),
            )
            .select_from(
                table.join(
                    rows,
                    and_(
                        rows.c.timestamp >= table.c.bucket_start,
                        rows.c.timestamp < table.c.bucket_end,
                    ),
                )
            )
            .group_by(table.c.bucket_start, table.c.bucket_end)
            .order_by(table.c.bucket_start)
        )
        async with self._engine.connect() as connection:
            result = (await connection.execute(query)).all()
        return [
            Aggregate(_utc(start), _utc(end), float(mean), float(low), float(high), int(count))
            for start, end, mean, low, high, count in result
        ]

    async def versions(self, series: SeriesKey, moment: datetime) -> list[Version]:
        """Every value the point of ``series`` covering ``moment`` has had, oldest first: the
        replaced ones with the span they were stored in, the current one open-ended."""
        p, h, f = points.c, point_history.c, fetches.c
        window = overlapping(p, series.series_id, series.resolution, moment, moment + _SECOND)
        current = (
            select(p.timestamp, p.value, p.price, p.known_from, f.document_mrid)
            .add_columns(f.revision_number, f.document_created_at, f.fetched_at)
            .join_from(points, fetches, f.id == p.fetch_id)
            .where(*window)
        )
        async with self._engine.connect() as connection:
            found = (await connection.execute(current)).first()
            if found is None:
                return []
            older = (
                select(h.timestamp, h.value, h.price, h.known_from, h.known_until)
                .add_columns(f.document_mrid, f.revision_number, f.document_created_at)
                .add_columns(f.fetched_at)
                .join_from(point_history, fetches, f.id == h.fetch_id)
                .where(h.series_id == series.series_id, h.timestamp == found[0])
                .order_by(h.known_from)
            )
            history = (await connection.execute(older)).all()
        timestamp, value, price, known_from, mrid, revision, created, fetched = found
        return [Version(*row) for row in history] + [
            Version(timestamp, value, price, known_from, None, mrid, revision, created, fetched)
        ]


_SECOND = timedelta(seconds=1)


def _utc(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
