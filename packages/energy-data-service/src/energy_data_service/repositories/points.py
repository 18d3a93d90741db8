"""Reads and writes of stored points: the repository services and the API use.

Writes go through ``point_writes.write_points`` (the version rule, the history and the bulk
paths live there, the row encoders in ``point_encoding``); ``upsert`` takes an optional
connection so a caller can store points and record progress atomically. Every write of a
scheduled job is fenced by its leader's term (``leader_terms.fence_job_writes``): a job whose
term is over stores nothing. The reads here serve coverage, bounds, export and the latest point.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import repeat
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import case, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from energy_data_service.db.tables import fetches, points, series
from energy_data_service.domain import FIXED_STEPS, EnergyPoint
from energy_data_service.repositories.catalogue import SeriesRow, find_series
from energy_data_service.repositories.leader_terms import fence_job_writes
from energy_data_service.repositories.point_sql import overlapping, point_rows
from energy_data_service.repositories.point_writes import write_points

_FIELD = {name: index for index, name in enumerate(EnergyPoint._fields)}


@dataclass(frozen=True, slots=True)
class SeriesBounds:
    """First and last stored interval start of one series, and how many points it holds."""

    area_code: str
    data_type: str
    business_type: str
    resolution: str
    classification_sequence: int
    first: datetime
    last: datetime
    points: int
    out_area_code: str = ""
    psr_type: str = ""
    registered_resource: str = ""
    contract_type: str = ""
    flow_direction: str = ""
    price_category: str = ""


class GridCount(NamedTuple):
    """Stored interval starts of one resolution in a window (``PointRepository.grid_coverage``)."""

    starts: int
    off_grid: int
    last: datetime


class PointRepository:
    """Reads and writes of stored points; the only module that writes their SQL."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def upsert(
        self, points: Iterable[EnergyPoint], connection: AsyncConnection | None = None
    ) -> int:
        """Store ``points`` version-aware; returns how many points were written or offered.

        In a scheduled job whose leader term is over this raises ``TermOverError`` and writes
        nothing (with ``connection``, the caller's transaction is to roll back)."""
        rows = points if isinstance(points, list) else list(points)
        if not rows:
            return 0
        if connection is not None:
            await fence_job_writes(connection)
            return await write_points(connection, rows)
        async with self._engine.begin() as own:
            await fence_job_writes(own)
            return await write_points(own, rows)

    async def range(
        self,
        area_code: str,
        data_type: str,
        start: datetime,
        end: datetime,
        *,
        as_of: datetime | None = None,
    ) -> list[EnergyPoint]:
        """Every point of every series overlapping ``[start, end)``, ordered by time."""
        found = [
            p
            async for batch in self.iter_range(area_code, data_type, start, end, as_of=as_of)
            for p in batch
        ]
        found.sort(key=_START)
        return found

    async def iter_range(
        self,
        area_code: str,
        data_type: str,
        start: datetime,
        end: datetime,
        batch_size: int = 10_000,
        *,
        as_of: datetime | None = None,
        **identity: Any,
    ) -> AsyncIterator[list[EnergyPoint]]:
        """The points overlapping ``[start, end)`` in batches, series after series, each in
        time order (export); ``as_of`` reads them as known at that instant; ``identity``
        narrows the series (``out_area_code=``, ``psr_type=``; ``None`` matches any)."""
        async with self._engine.connect() as connection:
            catalogue = await find_series(connection, area_code, data_type, **identity)
        for row in catalogue:
            after: datetime | None = None
            while True:
                batch = await self._batch(row, start, end, as_of, after, batch_size)
                if batch:
                    yield batch
                if len(batch) < batch_size:
                    break
                after = batch[-1].timestamp

    async def _batch(
        self,
        row: SeriesRow,
        start: datetime,
        end: datetime,
        as_of: datetime | None,
        after: datetime | None,
        limit: int,
    ) -> list[EnergyPoint]:
        def where(columns: Any) -> list[Any]:
            conditions = overlapping(columns, row.id, row.resolution, start, end)
            if after is not None:
                conditions.append(columns["timestamp"] > after)
            return conditions

        names = ("timestamp", "value", "price", "interval_end", "fetch_id")
        rows = point_rows(names, where, as_of, limit=limit).subquery()
        f = fetches.c
        query = (
            select(
                rows.c.timestamp,
                rows.c.value,
                f.document_mrid,
                f.revision_number,
                f.document_created_at,
                f.fetched_at,
                rows.c.price,
                rows.c.interval_end,
            )
            .join_from(rows, fetches, f.id == rows.c.fetch_id)
            .order_by(rows.c.timestamp)
        )
        head = (
            row.area_code,
            row.data_type,
            row.business_type,
            row.resolution,
            row.classification_sequence,
        )
        tail = (
            row.out_area_code,
            row.psr_type,
            row.registered_resource,
            row.contract_type,
            row.flow_direction,
            row.price_category,
        )
        unit, curve = row.unit, row.curve_type
        async with self._engine.connect() as connection:
            result = await connection.execute(query)
            return [
                EnergyPoint(
                    *head, ts, value, unit, curve, mrid, rev, created, fetched, price, end_, *tail
                )
                for ts, value, mrid, rev, created, fetched, price, end_ in result
            ]

    async def latest(self, area_code: str, data_type: str) -> EnergyPoint | None:
        """The point with the newest start (first sequence, then finest resolution on ties)."""
        p = points.c
        async with self._engine.connect() as connection:
            catalogue = await find_series(connection, area_code, data_type)
            ends = dict(
                (
                    await connection.execute(
                        select(p.series_id, func.max(p.timestamp))
                        .where(p.series_id.in_([row.id for row in catalogue]))
                        .group_by(p.series_id)
                    )
                ).all()
            )
        stored = [row for row in catalogue if row.id in ends]
        if not stored:
            return None
        newest = max(ends.values())
        row = min(
            (r for r in stored if ends[r.id] == newest),
            key=lambda r: (r.classification_sequence, r.resolution),
        )
        found = await self._batch(row, newest, newest + _SECOND, None, None, 10)
        return next(p for p in found if p.timestamp == newest)

    async def series_bounds(
        self, area_code: str | None = None, data_type: str | None = None
    ) -> list[SeriesBounds]:
        """First/last timestamp and count per stored series, optionally for one area/type."""
        p = points.c
        counts = (
            select(p.series_id, func.min(p.timestamp), func.max(p.timestamp), func.count())
            .group_by(p.series_id)
            .subquery()
        )
        async with self._engine.connect() as connection:
            catalogue = await find_series(connection, area_code, data_type)
            wanted = [row.id for row in catalogue]
            stats = {
                sid: (first, last, count)
                for sid, first, last, count in await connection.execute(
                    select(counts).where(counts.c.series_id.in_(wanted))
                )
            }
        return [
            SeriesBounds(
                area_code=row.area_code,
                data_type=row.data_type,
                business_type=row.business_type,
                resolution=row.resolution,
                classification_sequence=row.classification_sequence,
                first=stats[row.id][0],
                last=stats[row.id][1],
                points=stats[row.id][2],
                out_area_code=row.out_area_code,
                psr_type=row.psr_type,
                registered_resource=row.registered_resource,
                contract_type=row.contract_type,
                flow_direction=row.flow_direction,
                price_category=row.price_category,
            )
            for row in catalogue
            if row.id in stats
        ]

    async def present_intervals(
        self, area_code: str, data_type: str, start: datetime, end: datetime, **identity: Any
    ) -> list[tuple[datetime, str]]:
        """Distinct (interval start, resolution) of points overlapping ``[start, end)``;
        ``identity`` narrows the series (``out_area_code=`` for one border)."""
        found: set[tuple[datetime, str]] = set()
        async with self._engine.connect() as connection:
            for row in await find_series(connection, area_code, data_type, **identity):
                query = point_rows(
                    ("timestamp",),
                    lambda c, row=row: overlapping(c, row.id, row.resolution, start, end),
                )
                stamps = (await connection.execute(query)).scalars().all()
                found.update(zip(stamps, repeat(row.resolution)))
        return sorted(found)

    async def grid_coverage(
        self, area_code: str, data_type: str, start: datetime, end: datetime
    ) -> dict[str, GridCount]:
        """Per resolution stored in ``[start, end)``: distinct interval starts, how many of
        them lie off the grid ``start + k × step`` (needs ``FIXED_STEPS`` steps), and the last.

        Counted in SQL, so an exact coverage needs no row read back when every start is on
        the grid (see ``BackfillService.fraction_covered``).
        """
        p = points.c
        async with self._engine.connect() as connection:
            catalogue = await find_series(connection, area_code, data_type)
            by_resolution: dict[str, list[int]] = {}
            for row in catalogue:
                by_resolution.setdefault(row.resolution, []).append(row.id)
            counts: dict[str, GridCount] = {}
            for resolution, ids in by_resolution.items():
                off_grid: Any = literal_column(
                    _off_grid(connection.dialect.name, start, FIXED_STEPS.get(resolution))
                )
                query = select(
                    func.count(p.timestamp.distinct()),
                    func.sum(case((off_grid, 1), else_=0)),
                    func.max(p.timestamp),
                ).where(p.series_id.in_(ids), p.timestamp >= start, p.timestamp < end)
                starts, off, last = (await connection.execute(query)).one()
                if starts:
                    counts[resolution] = GridCount(int(starts), int(off or 0), last)
        return counts

    async def count(self, area_code: str | None = None, data_type: str | None = None) -> int:
        """Number of stored points (all series), optionally for one area/type."""
        query = select(func.count()).select_from(points)
        if area_code is not None or data_type is not None:
            ids = select(series.c.id)
            if area_code is not None:
                ids = ids.where(series.c.area_code == area_code)
            if data_type is not None:
                ids = ids.where(series.c.data_type == data_type)
            query = query.where(points.c.series_id.in_(ids))
        async with self._engine.connect() as connection:
            return int(await connection.scalar(query) or 0)


_START = itemgetter(_FIELD["timestamp"])
_SECOND = timedelta(seconds=1)


def _off_grid(dialect: str, start: datetime, step: Any) -> str:
    """SQL true for a row whose start is not ``start`` plus whole ``step``s (always true for
    a resolution without a fixed step)."""
    if step is None:
        return "1 = 1"
    seconds = int(step.total_seconds())
    if dialect == "sqlite":  # integer epoch seconds
        base = int(start.timestamp())
        return f'(points."timestamp" - {base}) % {seconds} <> 0'
    base_text = start.astimezone(UTC).isoformat()
    return (
        f"mod(CAST(extract(epoch FROM points.\"timestamp\" - TIMESTAMPTZ '{base_text}') AS bigint),"
        f" {seconds}) <> 0"
    )
