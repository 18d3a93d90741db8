"""All SQL that writes points, and the reads services need (coverage, bounds, export).

Which version wins: for the same series and interval start, the document with the greater
(revision number, createdDateTime, fetch time) — compared through ``fetches`` — replaces the
stored one; an equal version (the same fetch) replaces it too, so the later of two duplicates
in one batch wins. An older revision, or a backfill that fetched before the stored value but
commits after it, never overwrites. The rule lives in the ``ON CONFLICT … DO UPDATE … WHERE``
clause, so it holds however writes interleave.

History: when the winning value differs from the stored one, ``known_from`` moves to the
new fetch time and the trigger of ``db/history.py`` keeps the old row in ``point_history``.
An unchanged value keeps its ``known_from`` (only its ``fetch_id`` moves to the newer
document): no history row.

Bulk ingest: the batch becomes rows in ``point_batch``; each distinct series and document
costs one statement (``series`` and ``fetches``), the points one ``executemany`` (SQLite) or
one COPY into a session temp table and one ``INSERT … SELECT … ON CONFLICT`` (PostgreSQL).
Both take an optional connection so a caller can store points and record progress atomically.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import repeat
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import case, func, literal_column, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from energy_data_service.db.tables import SERIES_IDENTITY, fetches, points, series
from energy_data_service.domain import FIXED_STEPS, EnergyPoint
from energy_data_service.repositories.catalogue import SeriesRow, find_series, register_statement
from energy_data_service.repositories.point_batch import (
    PreparedBatch,
    Provenance,
    SeriesIdentity,
    prepare,
    rows,
)
from energy_data_service.repositories.point_sql import overlapping, point_rows

_FIELD = {name: index for index, name in enumerate(EnergyPoint._fields)}
_POINT_COLUMNS: tuple[str, ...] = ("series_id", "timestamp", "value", "price", "interval_end")
_POINT_COLUMNS += ("fetch_id", "known_from")
_COLUMN_LIST = ", ".join(f'"{c}"' for c in _POINT_COLUMNS)

_SQLITE_VERSION = "(SELECT revision_number, coalesce(document_created_at, ''), fetched_at"
_SQLITE_VERSION += " FROM fetches WHERE id = {}.fetch_id)"
_SQLITE_UPSERT = (
    f"INSERT INTO points ({_COLUMN_LIST}) VALUES ({', '.join('?' for _ in _POINT_COLUMNS)}) "
    'ON CONFLICT (series_id, "timestamp") DO UPDATE SET '
    "known_from = CASE WHEN points.value IS excluded.value AND points.price IS excluded.price "
    "THEN points.known_from ELSE max(points.known_from, excluded.known_from) END, "
    "value = excluded.value, price = excluded.price, interval_end = excluded.interval_end, "
    "fetch_id = excluded.fetch_id "
    "WHERE excluded.fetch_id = points.fetch_id OR "
    f"{_SQLITE_VERSION.format('excluded')} >= {_SQLITE_VERSION.format('points')}"
)

_PG_STAGING = "points_staging"
_PG_TYPES = ("int4", "int8", "float8", "float8", "int8", "int4", "int8")
_PG_CREATE_STAGING = (
    f"CREATE TEMP TABLE IF NOT EXISTS {_PG_STAGING} ("
    + ", ".join(f'"{c}" {t}' for c, t in zip(_POINT_COLUMNS, _PG_TYPES, strict=True))
    + ") ON COMMIT DELETE ROWS"
)
_PG_TIMES = frozenset({"timestamp", "interval_end", "known_from"})
_PG_SELECT_LIST = ", ".join(
    f"TIMESTAMPTZ 'epoch' + \"{c}\" * INTERVAL '1 second'" if c in _PG_TIMES else f'"{c}"'
    for c in _POINT_COLUMNS
)
_PG_VERSION = "ROW(revision_number, coalesce(document_created_at, '-infinity'), fetched_at)"
_PG_VERSION_OF = f"(SELECT {_PG_VERSION} FROM fetches WHERE id = {{}}.fetch_id)"
_PG_MERGE = (
    f"INSERT INTO points AS p ({_COLUMN_LIST}) SELECT {_PG_SELECT_LIST} FROM {_PG_STAGING} "
    'ON CONFLICT (series_id, "timestamp") DO UPDATE SET '
    "known_from = CASE WHEN p.value = excluded.value "
    "AND p.price IS NOT DISTINCT FROM excluded.price "
    "THEN p.known_from ELSE GREATEST(p.known_from, excluded.known_from) END, "
    "value = excluded.value, price = excluded.price, interval_end = excluded.interval_end, "
    "fetch_id = excluded.fetch_id "
    "WHERE excluded.fetch_id = p.fetch_id OR "
    f"{_PG_VERSION_OF.format('excluded')} >= {_PG_VERSION_OF.format('p')}"
)
_PG_DEDUPE_STAGING = (
    f"DELETE FROM {_PG_STAGING} a USING {_PG_STAGING} b, fetches fa, fetches fb "
    'WHERE a.series_id = b.series_id AND a."timestamp" = b."timestamp" '
    "AND fa.id = a.fetch_id AND fb.id = b.fetch_id AND "
    "ROW(fa.revision_number, coalesce(fa.document_created_at, '-infinity'), fa.fetched_at, a.ctid)"
    " < ROW(fb.revision_number, coalesce(fb.document_created_at, '-infinity'), fb.fetched_at,"
    " b.ctid)"
)
_CARDINALITY_VIOLATION = "21000"


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
        """Store ``points`` version-aware; returns how many points were written or offered."""
        rows = points if isinstance(points, list) else list(points)
        if not rows:
            return 0
        if connection is not None:
            return await self._write(connection, rows)
        async with self._engine.begin() as own:
            return await self._write(own, rows)

    async def _write(self, connection: AsyncConnection, points: list[EnergyPoint]) -> int:
        batch = prepare(points)
        series_ids = await _register_series(connection, batch)
        fetch_ids = await _register_fetches(connection, batch.documents)
        table = rows(batch, series_ids, fetch_ids)
        if connection.dialect.name == "postgresql":
            await connection.exec_driver_sql(_PG_CREATE_STAGING)
            await connection.exec_driver_sql(f"TRUNCATE {_PG_STAGING}")
            raw = await connection.get_raw_connection()
            driver: Any = raw.driver_connection
            await driver.copy_records_to_table(_PG_STAGING, records=table, columns=_POINT_COLUMNS)
            await _merge_staging(connection)
        else:
            await connection.exec_driver_sql(_SQLITE_UPSERT, table)
        return len(table)

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
        tail = (row.out_area_code, row.psr_type, row.registered_resource)
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


async def _register_series(
    connection: AsyncConnection, batch: PreparedBatch
) -> dict[SeriesIdentity, int]:
    """Insert or widen every series of the batch (one statement each); their ids."""
    statement = register_statement(connection.dialect.name)
    ids: dict[SeriesIdentity, int] = {}
    for key, span in batch.series.items():
        values = dict(zip(SERIES_IDENTITY, key, strict=True))
        values.update(
            unit=span.unit,
            curve_type=span.curve_type,
            first_timestamp=span.first,
            last_timestamp=span.last,
            first_fetched_at=span.first_fetched,
            last_fetched_at=span.last_fetched,
        )
        ids[key] = int((await connection.execute(statement, values)).scalar_one())
    return ids


async def _register_fetches(
    connection: AsyncConnection, documents: list[Provenance]
) -> dict[Provenance, int]:
    """One ``fetches`` row per distinct document × fetch (reused when stored already)."""
    ids: dict[Provenance, int] = {}
    f = fetches.c
    for document in documents:
        mrid, revision, created, fetched = document
        same_created = (
            f.document_created_at.is_(None) if created is None else f.document_created_at == created
        )
        existing = await connection.scalar(
            select(f.id)
            .where(
                f.document_mrid == mrid,
                f.fetched_at == fetched,
                f.revision_number == revision,
                same_created,
            )
            .limit(1)
        )
        if existing is None:
            inserted = fetches.insert().values(
                document_mrid=mrid,
                revision_number=revision,
                document_created_at=created,
                fetched_at=fetched,
            )
            existing = (await connection.execute(inserted.returning(f.id))).scalar_one()
        ids[document] = int(existing)
    return ids


async def _merge_staging(connection: AsyncConnection) -> None:
    """One INSERT … ON CONFLICT from the staging table.

    PostgreSQL refuses to touch one row twice in a statement, so a batch holding the same
    key twice is first reduced to the winner (newest version, the later row on a tie: the
    same rule as across batches). That pass runs only when needed, under a savepoint.
    """
    try:
        async with connection.begin_nested():
            await connection.exec_driver_sql(_PG_MERGE)
    except DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) != _CARDINALITY_VIOLATION:
            raise
        await connection.exec_driver_sql(_PG_DEDUPE_STAGING)
        await connection.exec_driver_sql(_PG_MERGE)
