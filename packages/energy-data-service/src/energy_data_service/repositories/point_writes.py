"""The version-aware write of a batch of points, on SQLite and PostgreSQL.

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

Bulk ingest: the batch becomes rows in ``point_encoding``; each distinct series and document
costs one statement (``series`` and ``fetches``), the points one ``executemany`` (SQLite) or
one COPY into a session temp table and one ``INSERT … SELECT … ON CONFLICT`` (PostgreSQL).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from energy_data_service.db.tables import SERIES_IDENTITY, fetches
from energy_data_service.domain import EnergyPoint
from energy_data_service.repositories.catalogue import register_statement
from energy_data_service.repositories.point_encoding import (
    PreparedBatch,
    Provenance,
    SeriesIdentity,
    prepare,
    rows,
)

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


async def write_points(connection: AsyncConnection, points: list[EnergyPoint]) -> int:
    """Store ``points`` (non-empty) in ``connection``'s transaction; how many were offered."""
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
