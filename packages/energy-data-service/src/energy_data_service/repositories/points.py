"""All SQL for ``energy_points``: revision-aware bulk upsert and the reads services need.

Upsert rule (the whole reason this table exists): for the same series and timestamp a point
from a newer *or equal* revision replaces the stored one; an older revision never does. The
comparison lives in the ``ON CONFLICT … DO UPDATE … WHERE`` clause, so it holds however the
writes interleave.

Bulk ingest: PostgreSQL COPYs into a session temp table and runs one ``INSERT … SELECT … ON
CONFLICT``; SQLite runs one ``executemany`` of the upsert inside the caller's transaction.
Both take an optional connection so a caller can store points and record progress atomically.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import repeat
from operator import attrgetter, floordiv, is_, sub
from typing import Any, NamedTuple

from sqlalchemy import String, and_, case, func, literal_column, select, type_coerce
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from energy_data_service.db.tables import energy_points, sqlite_timestamp
from energy_data_service.domain import (
    FIXED_STEPS,
    KEY_COLUMNS,
    POINT_COLUMNS,
    EnergyPoint,
    cyclic_gc_paused,
)

_PG_TYPES = {
    "area_code": "text",
    "data_type": "text",
    "business_type": "text",
    "resolution": "text",
    "classification_sequence": "int4",
    "value": "float8",
    "unit": "text",
    "curve_type": "text",
    "document_mrid": "text",
    "revision_number": "int4",
}
_COLUMN_LIST = ", ".join(f'"{c}"' for c in POINT_COLUMNS)
_KEY_LIST = ", ".join(f'"{c}"' for c in KEY_COLUMNS)
_UPDATE_LIST = ", ".join(f'"{c}" = excluded."{c}"' for c in POINT_COLUMNS if c not in KEY_COLUMNS)
_ON_CONFLICT = (
    f"ON CONFLICT ({_KEY_LIST}) DO UPDATE SET {_UPDATE_LIST} "
    "WHERE excluded.revision_number >= energy_points.revision_number"
)
_SQLITE_UPSERT = (
    f"INSERT INTO energy_points ({_COLUMN_LIST}) "
    f"VALUES ({', '.join('?' for _ in POINT_COLUMNS)}) {_ON_CONFLICT}"
)
_PG_STAGING = "energy_points_staging_us"
_PG_TIME_COLUMNS = frozenset({"timestamp", "document_created_at", "fetched_at"})
# Times travel as int8 microseconds since the epoch: asyncpg encodes an int in C, while an
# aware datetime costs Python arithmetic per value, most of the COPY's time. The merge turns
# them back exactly (an interval of whole microseconds, |value| < 2**53).
_PG_CREATE_STAGING = (
    f"CREATE TEMP TABLE IF NOT EXISTS {_PG_STAGING} ("
    + ", ".join(
        f'"{c}" int8' if c in _PG_TIME_COLUMNS else f'"{c}" {_PG_TYPES[c]}' for c in POINT_COLUMNS
    )
    + ") ON COMMIT DELETE ROWS"
)
_PG_SELECT_LIST = ", ".join(
    f"TIMESTAMPTZ 'epoch' + \"{c}\" * INTERVAL '1 microsecond'"
    if c in _PG_TIME_COLUMNS
    else f'"{c}"'
    for c in POINT_COLUMNS
)
_PG_MERGE = (
    f"INSERT INTO energy_points ({_COLUMN_LIST}) "
    f"SELECT {_PG_SELECT_LIST} FROM {_PG_STAGING} {_ON_CONFLICT}"
)
_PG_DEDUPE_STAGING = (
    f"DELETE FROM {_PG_STAGING} a USING {_PG_STAGING} b WHERE "
    + " AND ".join(f'a."{c}" = b."{c}"' for c in KEY_COLUMNS)
    + " AND (a.revision_number < b.revision_number"
    " OR (a.revision_number = b.revision_number AND a.ctid < b.ctid))"
)
_CARDINALITY_VIOLATION = "21000"
_TS = energy_points.c.timestamp
_TIMESTAMP = POINT_COLUMNS.index("timestamp")
_CREATED = POINT_COLUMNS.index("document_created_at")
_FETCHED = POINT_COLUMNS.index("fetched_at")
_TZINFO = attrgetter("tzinfo")


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


class GridCount(NamedTuple):
    """Stored interval starts of one resolution in a window (``PointRepository.grid_coverage``)."""

    starts: int
    off_grid: int
    last: datetime


class PointRepository:
    """Reads and writes of stored points; the only module that knows their SQL."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def upsert(
        self, points: Iterable[EnergyPoint], connection: AsyncConnection | None = None
    ) -> int:
        """Store ``points`` revision-aware; returns how many points were written or offered."""
        if connection is not None:
            return await self._write(connection, points)
        async with self._engine.begin() as own:
            return await self._write(own, points)

    async def _write(self, connection: AsyncConnection, points: Iterable[EnergyPoint]) -> int:
        if connection.dialect.name == "postgresql":
            rows = points if isinstance(points, list) else list(points)
            if rows:
                await connection.exec_driver_sql(_PG_CREATE_STAGING)
                await connection.exec_driver_sql(f"TRUNCATE {_PG_STAGING}")
                raw = await connection.get_raw_connection()
                driver: Any = raw.driver_connection
                await driver.copy_records_to_table(
                    _PG_STAGING, records=_pg_records(rows), columns=POINT_COLUMNS
                )
                await self._merge_staging(connection)
            return len(rows)
        # SQLite applies the rows one after another, so duplicates in a batch resolve by the
        # same rule as across batches (newer or equal revision wins): no dedupe pass needed.
        with cyclic_gc_paused():
            params = _sqlite_rows(points)
        if params:
            await connection.exec_driver_sql(_SQLITE_UPSERT, params)
        return len(params)

    @staticmethod
    async def _merge_staging(connection: AsyncConnection) -> None:
        """One INSERT … ON CONFLICT from the staging table.

        PostgreSQL refuses to touch one row twice in a statement, so a batch holding the same
        key twice is first reduced to the winner (highest revision, the later row on a tie:
        the same rule as across batches). That pass runs only when needed, under a savepoint.
        """
        try:
            async with connection.begin_nested():
                await connection.exec_driver_sql(_PG_MERGE)
        except DBAPIError as error:
            if getattr(error.orig, "sqlstate", None) != _CARDINALITY_VIOLATION:
                raise
            await connection.exec_driver_sql(_PG_DEDUPE_STAGING)
            await connection.exec_driver_sql(_PG_MERGE)

    async def range(
        self, area_code: str, data_type: str, start: datetime, end: datetime
    ) -> list[EnergyPoint]:
        """Every stored point of every series in ``[start, end)``, ordered by time."""
        async with self._engine.connect() as connection:
            result = await connection.execute(_range_query(area_code, data_type, start, end))
            return [EnergyPoint(*row) for row in result]

    async def iter_range(
        self,
        area_code: str,
        data_type: str,
        start: datetime,
        end: datetime,
        batch_size: int = 10_000,
    ) -> AsyncIterator[list[EnergyPoint]]:
        """The same rows as ``range`` in batches, with a server-side cursor (export)."""
        async with self._engine.connect() as connection:
            result = await connection.stream(
                _range_query(area_code, data_type, start, end).execution_options(
                    yield_per=batch_size
                )
            )
            async for partition in result.partitions(batch_size):
                yield [EnergyPoint(*row) for row in partition]

    async def latest(self, area_code: str, data_type: str) -> EnergyPoint | None:
        """The point with the newest timestamp (finest resolution, first sequence on ties)."""
        query = (
            select(*[energy_points.c[c] for c in POINT_COLUMNS])
            .where(energy_points.c.area_code == area_code, energy_points.c.data_type == data_type)
            .order_by(
                _TS.desc(),
                energy_points.c.classification_sequence,
                energy_points.c.resolution,
            )
            .limit(1)
        )
        async with self._engine.connect() as connection:
            row = (await connection.execute(query)).first()
        return EnergyPoint(*row) if row is not None else None

    async def series_bounds(
        self, area_code: str | None = None, data_type: str | None = None
    ) -> list[SeriesBounds]:
        """First/last timestamp and count per stored series, optionally for one area/type."""
        c = energy_points.c
        group = (c.area_code, c.data_type, c.business_type, c.resolution, c.classification_sequence)
        query = select(*group, func.min(_TS), func.max(_TS), func.count()).group_by(*group)
        if area_code is not None:
            query = query.where(c.area_code == area_code)
        if data_type is not None:
            query = query.where(c.data_type == data_type)
        query = query.order_by(*group)
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [
            SeriesBounds(
                area_code=row[0],
                data_type=row[1],
                business_type=row[2],
                resolution=row[3],
                classification_sequence=row[4],
                first=_aware(row[5]),
                last=_aware(row[6]),
                points=row[7],
            )
            for row in rows
        ]

    async def present_intervals(
        self, area_code: str, data_type: str, start: datetime, end: datetime
    ) -> list[tuple[datetime, str]]:
        """Distinct (interval start, resolution) pairs stored in ``[start, end)`` for gaps."""
        c = energy_points.c
        # The column read untyped: SQLite's text is converted for the whole column at once
        # below instead of row by row; PostgreSQL already returns aware UTC datetimes.
        raw_ts = type_coerce(_TS, String)
        query = (
            select(raw_ts, c.resolution)
            .distinct()
            .where(c.area_code == area_code, c.data_type == data_type, start <= _TS, end > _TS)
            .order_by(raw_ts)
        )
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        if not rows:
            return []
        stamps, resolutions = zip(*rows, strict=True)
        return list(zip(_utc_column(stamps), resolutions, strict=True))

    async def grid_coverage(
        self, area_code: str, data_type: str, start: datetime, end: datetime
    ) -> dict[str, GridCount]:
        """Per resolution stored in ``[start, end)``: distinct interval starts, how many of
        them lie off the grid ``start + k × step`` (needs ``FIXED_STEPS`` steps), and the last.

        Counted in SQL, so an exact coverage needs no row read back when every start is on
        the grid (see ``BackfillService.fraction_covered``).
        """
        c = energy_points.c
        base = int(start.timestamp())
        async with self._engine.connect() as connection:
            off_grid: Any = literal_column(_off_grid(connection.dialect.name, base))
            grouped = (
                select(
                    c.resolution,
                    func.count(_TS.distinct()),
                    func.sum(case((off_grid, 1), else_=0)),
                    func.max(_TS),
                )
                .where(c.area_code == area_code, c.data_type == data_type, start <= _TS, end > _TS)
                .group_by(c.resolution)
            )
            rows = (await connection.execute(grouped)).all()
        return {
            row[0]: GridCount(int(row[1]), int(row[2] or 0), _aware(row[3]).astimezone(UTC))
            for row in rows
        }

    async def count(self, area_code: str | None = None, data_type: str | None = None) -> int:
        """Number of stored points (all series), optionally for one area/type."""
        query = select(func.count()).select_from(energy_points)
        if area_code is not None:
            query = query.where(energy_points.c.area_code == area_code)
        if data_type is not None:
            query = query.where(energy_points.c.data_type == data_type)
        async with self._engine.connect() as connection:
            return int(await connection.scalar(query) or 0)


def _range_query(area_code: str, data_type: str, start: datetime, end: datetime) -> Any:
    c = energy_points.c
    return (
        select(*[c[name] for name in POINT_COLUMNS])
        .where(and_(c.area_code == area_code, c.data_type == data_type, start <= _TS, end > _TS))
        .order_by(_TS, c.business_type, c.classification_sequence, c.resolution)
    )


def _utc_column(values: tuple[Any, ...]) -> list[datetime]:
    """A timestamp column as read raw: SQLite's naive UTC text, or the driver's datetimes."""
    if all(map(isinstance, values, repeat(str))):
        return list(map(datetime.fromisoformat, map(str.__add__, values, repeat(_UTC_SUFFIX))))
    return [_aware(value).astimezone(UTC) for value in values]


def _off_grid(dialect: str, base: int) -> str:
    """SQL true for a row whose timestamp is not ``base`` (epoch seconds) plus whole steps of
    its resolution; a resolution without a fixed step is always off the grid."""
    step = "CASE resolution " + " ".join(
        f"WHEN '{name}' THEN {int(delta.total_seconds())}" for name, delta in FIXED_STEPS.items()
    )
    step += " END"
    if dialect == "sqlite":  # naive UTC text 'YYYY-MM-DD HH:MM:SS.ffffff'
        return (
            f"({step}) IS NULL OR substr(timestamp, 21) <> '000000' OR "
            f"(CAST(strftime('%s', timestamp) AS INTEGER) - {base}) % ({step}) <> 0"
        )
    return f"({step}) IS NULL OR mod(extract(epoch FROM timestamp) - {base}, {step}) <> 0"


def _aware(value: Any) -> datetime:
    """MIN/MAX keep the column type, but be safe with raw SQLite text."""
    moment: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


_UTC_SUFFIX = "+00:00"
_ISO_MICRO = "microseconds"


def _sqlite_texts(values: tuple[datetime, ...]) -> list[str]:
    """``sqlite_timestamp`` of a whole column, at C speed when every time is in UTC.

    A batch holds few distinct days and few distinct times of day (a year of PT15M: 365 and
    96), so each is formatted once and the texts are joined by lookups; any other zone (or a
    naive time, refused by ``sqlite_timestamp`` as before) takes the general path.
    """
    if not all(map(is_, map(_TZINFO, values), repeat(UTC))):
        return list(map(sqlite_timestamp, values))
    days = list(map(datetime.date, values))
    times = list(map(datetime.time, values))
    day_texts = {day: day.isoformat() + " " for day in set(days)}
    time_texts = {moment: moment.isoformat(_ISO_MICRO) for moment in set(times)}
    return list(
        map(str.__add__, map(day_texts.__getitem__, days), map(time_texts.__getitem__, times))
    )


def _sqlite_column(values: tuple[datetime | None, ...]) -> list[str | None]:
    """A provenance time column (a handful of distinct values per batch) as SQLite text."""
    memo: dict[datetime | None, str | None] = {
        value: None if value is None else sqlite_timestamp(value) for value in set(values)
    }
    return list(map(memo.__getitem__, values))


def _sqlite_rows(points: Iterable[EnergyPoint]) -> list[tuple[Any, ...]]:
    """executemany parameters: the columns transposed, converted and zipped back (no per-row
    Python frame)."""
    columns: list[Any] = list(zip(*points, strict=True))
    if not columns:
        return []
    columns[_TIMESTAMP] = _sqlite_texts(columns[_TIMESTAMP])
    columns[_CREATED] = _sqlite_column(columns[_CREATED])
    columns[_FETCHED] = _sqlite_column(columns[_FETCHED])
    return list(zip(*columns, strict=True))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_ASTIMEZONE: Any = datetime.astimezone


def _pg_micros(values: tuple[datetime | None, ...]) -> list[int | None]:
    """Microseconds since the epoch, as asyncpg would count them (``astimezone(UTC)``)."""
    if None in values:
        return [None if v is None else (v.astimezone(UTC) - _EPOCH) // _MICROSECOND for v in values]
    utc = map(_ASTIMEZONE, values, repeat(UTC))
    return list(map(floordiv, map(sub, utc, repeat(_EPOCH)), repeat(_MICROSECOND)))


def _pg_records(points: list[EnergyPoint]) -> list[tuple[Any, ...]]:
    """COPY records for the staging table: the time columns as int8 microseconds."""
    with cyclic_gc_paused():
        columns: list[Any] = list(zip(*points, strict=True))
        columns[_TIMESTAMP] = _pg_micros(columns[_TIMESTAMP])
        columns[_CREATED] = _pg_micros(columns[_CREATED])
        columns[_FETCHED] = _pg_micros(columns[_FETCHED])
        return list(zip(*columns, strict=True))
