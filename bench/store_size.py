"""Store size per point: storage v2 against the v1 table, side by side in one run.

One year of DE_LU actual load at PT15M (35,040 points) is fetched once, fetched again
unchanged, and fetched a third time with one value in six revised, as a collector storing
every fetch would. Stored through ``PointRepository`` into v2 (``series``, ``fetches``,
``points``, ``point_history``), and the same three fetches into the v1 ``energy_points`` table
(its upsert keeps only the last value), the schema of migration ``0003_monitoring``.

Bytes per point are the pages of the tables and their indexes divided by the year's points:
SQLite from ``dbstat`` after ``VACUUM``, PostgreSQL from ``pg_total_relation_size`` after
``VACUUM FULL``. Goal (SQLite, v2): ≤ 40 bytes per point.

Needs PostgreSQL on 127.0.0.1:5432 (user postgres); run with `uv run python bench/store_size.py`.
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from energy_data_service.db.engine import create_engine
from energy_data_service.db.migrate import upgrade
from energy_data_service.domain import EnergyPoint
from energy_data_service.repositories.points import PointRepository
from energy_data_service.testing import energy_points_v1, v1_row, v1_store
from sqlalchemy import (
    text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine

POINTS = 35_040
START = datetime(2024, 12, 31, 23, tzinfo=UTC)
V2_TABLES = ("series", "fetches", "points", "point_history")


def fetch(fetched: datetime, revised: bool) -> list[EnergyPoint]:
    """One fetch of the year; ``revised``: every sixth value corrected."""
    return [
        EnergyPoint(
            "10Y1001A1001A82H", "actual_load", "A04", "PT15M", 0,
            START + timedelta(minutes=15 * i),
            41_000.0 + (i % 96) * 17.25 + (3.75 if revised and i % 6 == 0 else 0.0),
            "MAW", "A01", f"doc-{fetched:%d%H}", 1, fetched - timedelta(minutes=3), fetched,
        )
        for i in range(POINTS)
    ]  # fmt: skip


def fetches() -> list[list[EnergyPoint]]:
    first = datetime(2025, 1, 2, 8, 0, 17, 120_000, tzinfo=UTC)
    return [fetch(first, False), fetch(first + DAY, False), fetch(first + 3 * DAY, True)]


DAY = timedelta(days=1)


async def store_v2(engine: AsyncEngine) -> None:
    await upgrade(engine)
    repository = PointRepository(engine)
    for points in fetches():
        await repository.upsert(points)


async def store_v1(engine: AsyncEngine) -> None:
    """The v1 schema and its upsert (newer or equal revision replaces)."""
    await v1_store(engine)
    insert: Any = sqlite_insert if engine.dialect.name == "sqlite" else pg_insert
    keys = [c.name for c in energy_points_v1.primary_key.columns]
    for points in fetches():
        rows = [v1_row(p) for p in points]
        statement = insert(energy_points_v1)
        statement = statement.on_conflict_do_update(
            index_elements=keys,
            set_={c: statement.excluded[c] for c in rows[0] if c not in keys},
            where=statement.excluded.revision_number >= energy_points_v1.c.revision_number,
        )
        async with engine.begin() as connection:
            for begin in range(0, len(rows), 5_000):
                await connection.execute(statement, rows[begin : begin + 5_000])


def sqlite_bytes(path: Path, tables: tuple[str, ...]) -> int:
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute("VACUUM")
        names = [
            row[0]
            for row in connection.execute(
                f"SELECT name FROM sqlite_master WHERE tbl_name IN ({','.join('?' * len(tables))})",
                tables,
            )
        ]
        return sum(
            connection.execute(
                "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name = ?", (n,)
            ).fetchone()[0]
            for n in names
        )
    finally:
        connection.close()


async def postgres_bytes(url: str, tables: tuple[str, ...]) -> int:
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        await connection.execute(f"VACUUM FULL {', '.join(tables)}")
        return sum(
            [int(await connection.fetchval("SELECT pg_total_relation_size($1)", t)) for t in tables]
        )
    finally:
        await connection.close()


async def admin(statement: str) -> None:
    connection = await asyncpg.connect(host="127.0.0.1", user="postgres", database="postgres")
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def measure(
    layout: str, url: str, tables: tuple[str, ...], sqlite_file: Path | None
) -> tuple[int, int]:
    """(bytes, history rows) of one layout on one backend."""
    engine = create_engine(url)
    try:
        await (store_v2 if layout == "v2" else store_v1)(engine)
        async with engine.connect() as connection:
            history = 0
            if layout == "v2":
                history = int(
                    await connection.scalar(text("SELECT count(*) FROM point_history")) or 0
                )
    finally:
        await engine.dispose()
    size = sqlite_bytes(sqlite_file, tables) if sqlite_file else await postgres_bytes(url, tables)
    return size, history


async def main() -> None:
    results: list[tuple[str, str, int, int]] = []
    with tempfile.TemporaryDirectory() as folder:
        for layout, tables in (("v2", V2_TABLES), ("v1", ("energy_points",))):
            path = Path(folder) / f"{layout}.db"
            size, history = await measure(layout, f"sqlite+aiosqlite:///{path}", tables, path)
            results.append(("SQLite", layout, size, history))
            name = f"bench_size_{uuid.uuid4().hex[:8]}"
            await admin(f'CREATE DATABASE "{name}"')
            try:
                url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
                size, history = await measure(layout, url, tables, None)
                results.append(("PostgreSQL", layout, size, history))
            finally:
                await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(
        f"One year of PT15M ({POINTS:,} points) fetched three times, the third revising 1/6 "
        "of the values; tables and indexes\n"
    )
    print("| backend | layout | bytes | bytes per point | history rows kept |")
    print("|---|---|---:|---:|---:|")
    for backend, layout, size, history in results:
        label = (
            "v2 (catalogue, points, history)" if layout == "v2" else "v1 `energy_points` (baseline)"
        )
        kept = f"{history:,}" if layout == "v2" else "none (last value only)"
        print(f"| {backend} | {label} | {size:,} | {size / POINTS:.1f} | {kept} |")


if __name__ == "__main__":
    asyncio.run(main())
