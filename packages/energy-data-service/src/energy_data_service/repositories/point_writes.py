"""The version-aware write of a batch of points, on SQLite and PostgreSQL.

Which version wins: for the same series and interval start, the document with the greater
(revision number, createdDateTime, fetch time) — compared through ``fetches`` — replaces the
stored one; an equal version (the same fetch) replaces it too, so the later of two duplicates
in one batch wins. An older revision, or a backfill that fetched before the stored value but
commits after it, never overwrites. The rule lives in the ``ON CONFLICT … DO UPDATE … WHERE``
clause, so it holds however writes interleave.

History: when the winning value differs from the stored one, ``known_from`` moves to the
new fetch time (never back before the replaced value's own ``known_from``) and the trigger of
``db/history.py`` keeps the old row in ``point_history``. An unchanged value keeps its
``known_from`` (only its ``fetch_id`` moves to the newer document): no history row.

A version that loses (an older revision, or an older createdDateTime at the same revision,
that arrives after the newer one) never touches ``points``, but when its value differs from
the current one it is kept in ``point_history`` as what it is: a value that was already
superseded when it was learned, with the empty span ``known_from = known_until`` = its own
fetch time (rounded up). ``versions`` lists it; no as-of read answers with it, for any
instant. The same document offered again (re-served, re-imported: another fetch of it) is
not recorded twice, so a platform that keeps serving a stale document does not grow the
history. The value a newer version replaces when that version was fetched before it is kept
the same way (the trigger gives it an empty span). So as of ``T`` the answer is a value
fetched by ``T`` that had not lost on arrival, at most one value per point, and later
instants only ever answer newer versions.

A batch holding several documents is written document by document, oldest version first, so
the outcome is the same as fetching them one after the other and does not depend on the
batch's order or the backend.

Bulk ingest: the batch becomes rows in ``point_encoding``; each distinct series and document
costs one statement (``series`` and ``fetches``), the points one ``executemany`` (SQLite) or,
on PostgreSQL, one of two paths (measured: ``bench/ingest.py``). On SQLite, when the upsert
reports rows that lost, the batch's keys still held by another fetch are read back (one index
range per series) and only those rows go through the lost-version statement, which probes the
history row by row: a late document overlapping a fresher one by a few points costs a few
probes, not one per point of the batch.

- new points (no stored point of any of the batch's series lies between the batch's first and
  last start; one index probe per series tells): a binary COPY straight into ``points``. An
  ``INSERT … ON CONFLICT`` costs about 2.3 times a COPY per row even when nothing conflicts
  (it inserts row by row with a speculative index entry; COPY inserts in bulk), and for a row
  whose key is absent both store the same row. A batch naming a key twice (each series must
  be one run of rising starts) goes the second way at once; a key that appears meanwhile
  (another writer) makes the COPY fail with a unique violation, it is undone to a savepoint
  and the batch takes the second path, so the outcome never depends on the check.
- otherwise: a COPY into a session temp table, one ``INSERT … SELECT … ON CONFLICT``, and,
  when it reports rows that lost, one ``INSERT … SELECT`` of those into ``point_history``.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice
from operator import itemgetter, lt
from typing import Any

from sqlalchemy import and_, exists, func, insert, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from energy_data_service.db.tables import SERIES_IDENTITY, fetches, point_history
from energy_data_service.db.tables import points as points_table
from energy_data_service.domain import EnergyPoint
from energy_data_service.repositories.catalogue import register_statement
from energy_data_service.repositories.point_encoding import (
    PreparedBatch,
    Provenance,
    SeriesIdentity,
    copy_records,
    copy_records_plain,
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
_HISTORY_COLUMNS = (
    'series_id, "timestamp", known_from, known_until, value, price, interval_end, fetch_id'
)
_SQLITE_SUPERSEDED = (
    f"WITH offered ({_COLUMN_LIST}) AS (VALUES ({', '.join('?' for _ in _POINT_COLUMNS)})) "
    f"INSERT OR IGNORE INTO point_history ({_HISTORY_COLUMNS}) "
    'SELECT o.series_id, o."timestamp", o.known_from, o.known_from, o.value, o.price, '
    "o.interval_end, o.fetch_id FROM offered o JOIN points p "
    'ON p.series_id = o.series_id AND p."timestamp" = o."timestamp" '
    "WHERE p.fetch_id <> o.fetch_id AND (p.value IS NOT o.value OR p.price IS NOT o.price) "
    "AND NOT EXISTS (SELECT 1 FROM point_history h JOIN fetches hf ON hf.id = h.fetch_id "
    "JOIN fetches mine ON mine.id = o.fetch_id "
    'WHERE h.series_id = o.series_id AND h."timestamp" = o."timestamp" '
    "AND hf.document_mrid = mine.document_mrid AND hf.revision_number = mine.revision_number "
    "AND hf.document_created_at IS mine.document_created_at)"
)
_SQLITE_HELD_ELSEWHERE = (
    'SELECT "timestamp" FROM points WHERE series_id = ? AND "timestamp" BETWEEN ? AND ? '
    "AND fetch_id <> ?"
)
_QUOTED_TIMESTAMP = 's."timestamp"'
_PG_EPOCH = "TIMESTAMPTZ 'epoch' + {} * INTERVAL '1 second'"
_PG_SUPERSEDED = (
    f"INSERT INTO point_history ({_HISTORY_COLUMNS}) "
    f'SELECT s.series_id, p."timestamp", {_PG_EPOCH.format("s.known_from")}, '
    f"{_PG_EPOCH.format('s.known_from')}, s.value, s.price, "
    f"{_PG_EPOCH.format('s.interval_end')}, s.fetch_id FROM {_PG_STAGING} s JOIN points p "
    "ON p.series_id = s.series_id "
    f'AND p."timestamp" = {_PG_EPOCH.format(_QUOTED_TIMESTAMP)} '
    "WHERE p.fetch_id <> s.fetch_id AND (p.value IS DISTINCT FROM s.value "
    "OR p.price IS DISTINCT FROM s.price) "
    "AND NOT EXISTS (SELECT 1 FROM point_history h JOIN fetches hf ON hf.id = h.fetch_id "
    "JOIN fetches mine ON mine.id = s.fetch_id "
    'WHERE h.series_id = s.series_id AND h."timestamp" = p."timestamp" '
    "AND hf.document_mrid = mine.document_mrid AND hf.revision_number = mine.revision_number "
    "AND hf.document_created_at IS NOT DISTINCT FROM mine.document_created_at) "
    "ON CONFLICT DO NOTHING"
)
_CARDINALITY_VIOLATION = "21000"
_FIELD_TIMESTAMP = EnergyPoint._fields.index("timestamp")
_PROVENANCE_OF = itemgetter(
    *(
        EnergyPoint._fields.index(n)
        for n in ("document_mrid", "revision_number", "document_created_at", "fetched_at")
    )
)
_UNIQUE_VIOLATION = "23505"


async def write_points(connection: AsyncConnection, points: list[EnergyPoint]) -> int:
    """Store ``points`` (non-empty) in ``connection``'s transaction; how many were offered."""
    batch = prepare(points)
    if batch.document_of is None:
        return await _write_document(connection, batch)
    written = 0
    for document in sorted(batch.documents, key=version_order):
        own = [p for p, d in zip(points, batch.document_of, strict=True) if d == document]
        written += await _write_document(connection, prepare(own))
    return written


def version_order(document: Provenance) -> tuple[Any, ...]:
    """Sort key of a document's version: (revision, createdDateTime, fetch time), a missing
    createdDateTime lowest (as ``coalesce`` orders it in SQL)."""
    _, revision, created, fetched = document
    return (revision, created is not None, created or fetched, fetched)


async def _write_document(connection: AsyncConnection, batch: PreparedBatch) -> int:
    series_ids = await _register_series(connection, batch)
    fetch_ids = await _register_fetches(connection, batch.documents)
    if connection.dialect.name != "postgresql":
        table = rows(batch, series_ids, fetch_ids)
        result = await connection.exec_driver_sql(_SQLITE_UPSERT, table)
        if result.rowcount < len(table):  # some offered versions lost: keep them as such
            lost = await _sqlite_lost(connection, batch, series_ids, fetch_ids, table)
            if lost:
                await connection.exec_driver_sql(_SQLITE_SUPERSEDED, lost)
        return len(batch)
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    if await _all_new(connection, batch, series_ids) and await _copy_new(
        connection, driver, copy_records(batch, series_ids, fetch_ids)
    ):
        return len(batch)
    await connection.exec_driver_sql(_PG_CREATE_STAGING)
    await connection.exec_driver_sql(f"TRUNCATE {_PG_STAGING}")
    table = rows(batch, series_ids, fetch_ids)
    await driver.copy_records_to_table(_PG_STAGING, records=table, columns=_POINT_COLUMNS)
    if await _merge_staging(connection, len(table)):
        await connection.exec_driver_sql(_PG_SUPERSEDED)
    return len(batch)


async def _sqlite_lost(
    connection: AsyncConnection,
    batch: PreparedBatch,
    series_ids: dict[SeriesIdentity, int],
    fetch_ids: dict[Provenance, int],
    table: list[tuple[Any, ...]],
) -> list[tuple[Any, ...]]:
    """The rows of ``table`` (one document's) whose version lost to the stored one.

    A row that won holds the document's fetch id afterwards, so the losers are the batch's
    keys still held by another fetch: one index range read per series instead of running the
    lost-version statement (a history probe per row) over the whole batch when a few lost.
    """
    (document,) = batch.documents
    fetch_id = fetch_ids[document]
    held: set[tuple[int, int]] = set()
    for key, span in batch.series.items():
        series_id = series_ids[key]
        found = await connection.exec_driver_sql(
            _SQLITE_HELD_ELSEWHERE,
            (series_id, int(span.first.timestamp()), int(span.last.timestamp()), fetch_id),
        )
        held.update((series_id, start) for (start,) in found)
    return [row for row in table if (row[0], row[1]) in held]


async def _all_new(
    connection: AsyncConnection, batch: PreparedBatch, series_ids: dict[SeriesIdentity, int]
) -> bool:
    """True when no stored point of a batch's series lies within the batch's span of it (one
    index range probe per series) and the batch names no key twice (told without hashing a
    datetime: each series is one run of rising starts, as a document lists them)."""
    if not _rising_runs(batch):
        return False
    p = points_table.c
    spans = [
        and_(p.series_id == series_ids[key], p.timestamp >= span.first, p.timestamp <= span.last)
        for key, span in batch.series.items()
    ]
    return not await connection.scalar(select(exists().where(or_(*spans))))


def _rising_runs(batch: PreparedBatch) -> bool:
    """Each series of the batch is one run of strictly rising starts (so no key repeats)."""
    starts = batch.columns[_FIELD_TIMESTAMP]
    if batch.series_of is None:
        return all(map(lt, starts, islice(starts, 1, None)))
    of = batch.series_of
    runs = 1
    for index in range(1, len(of)):
        if of[index] != of[index - 1]:
            runs += 1
        elif not starts[index - 1] < starts[index]:
            return False
    return runs == len(batch.series)


async def _copy_new(
    connection: AsyncConnection, driver: Any, records: Iterable[tuple[Any, ...]]
) -> bool:
    """COPY ``records`` (streamed: read once, as the COPY goes) into ``points`` under a
    savepoint; False (and nothing written) when a key is there already."""
    try:
        async with connection.begin_nested():
            await driver.copy_records_to_table("points", records=records, columns=_POINT_COLUMNS)
    except Exception as error:
        if getattr(error, "sqlstate", None) != _UNIQUE_VIOLATION:
            raise
        return False
    return True


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


async def _merge_staging(connection: AsyncConnection, staged: int) -> bool:
    """One INSERT … ON CONFLICT from the staging table; True when some staged row lost.

    PostgreSQL refuses to touch one row twice in a statement, so a batch holding the same
    key twice is first reduced to the winner (the later row: one document states both). That
    pass runs only when needed, under a savepoint.
    """
    try:
        async with connection.begin_nested():
            merged = (await connection.exec_driver_sql(_PG_MERGE)).rowcount
    except DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) != _CARDINALITY_VIOLATION:
            raise
        staged -= (await connection.exec_driver_sql(_PG_DEDUPE_STAGING)).rowcount
        merged = (await connection.exec_driver_sql(_PG_MERGE)).rowcount
    return bool(merged < staged)


async def write_points_one_by_one(connection: AsyncConnection, points: list[EnergyPoint]) -> int:
    """The reference the bulk paths are tested against: the same rules, point by point.

    Documents in version order, then each point on its own: read the stored row, compare the
    versions in Python, and insert, update or keep the loser as a superseded version with
    plain statements. The history of a replaced value comes from the same trigger.
    """
    ordered = sorted(points, key=lambda p: version_order(_PROVENANCE_OF(p)))
    batch = prepare(ordered)
    series_ids = await _register_series(connection, batch)
    fetch_ids = await _register_fetches(connection, batch.documents)
    version = {fetch_ids[d]: version_order(d) for d in batch.documents}
    document_of = {fetch_ids[d]: d for d in batch.documents}
    p, h, f = points_table.c, point_history.c, fetches.c
    for sid, start, value, price, end, fetch_id, known in copy_records_plain(
        ordered, series_ids, fetch_ids
    ):
        key = (p.series_id == sid, p.timestamp == start)
        stored = (
            await connection.execute(select(p.value, p.price, p.fetch_id, p.known_from).where(*key))
        ).first()
        if stored is None:
            await connection.execute(
                insert(points_table).values(
                    series_id=sid,
                    timestamp=start,
                    value=value,
                    price=price,
                    interval_end=end,
                    fetch_id=fetch_id,
                    known_from=known,
                )
            )
            continue
        if stored.fetch_id not in version:
            _, revision, created, fetched = (
                await connection.execute(
                    select(f.document_mrid, f.revision_number, f.document_created_at)
                    .add_columns(f.fetched_at)
                    .where(f.id == stored.fetch_id)
                )
            ).one()
            version[stored.fetch_id] = version_order(("", revision, created, fetched))
        unchanged = (stored.value, stored.price) == (value, price)
        if stored.fetch_id == fetch_id or version[fetch_id] >= version[stored.fetch_id]:
            await connection.execute(
                update(points_table)
                .where(*key)
                .values(
                    value=value,
                    price=price,
                    interval_end=end,
                    fetch_id=fetch_id,
                    known_from=stored.known_from if unchanged else max(stored.known_from, known),
                )
            )
            continue
        mine = document_of[fetch_id]
        recorded = await connection.scalar(
            select(func.count())
            .select_from(point_history)
            .join(fetches, f.id == h.fetch_id)
            .where(
                h.series_id == sid,
                h.timestamp == start,
                f.document_mrid == mine[0],
                f.revision_number == mine[1],
                f.document_created_at.is_(None)
                if mine[2] is None
                else f.document_created_at == mine[2],
            )
        )
        if not unchanged and not recorded:
            await connection.execute(
                insert(point_history).values(
                    series_id=sid,
                    timestamp=start,
                    known_from=known,
                    known_until=known,
                    value=value,
                    price=price,
                    interval_end=end,
                    fetch_id=fetch_id,
                )
            )
    return len(ordered)
