"""``UtcDateTime``: aware UTC in and out on SQLite and PostgreSQL, naive refused, and the rows
the pusher wrote before it used this type (its own type bound naive values as local time) read
back as the same instants."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from service_common import UtcDateTime, sqlite_timestamp
from sqlalchemy import Column, DateTime, Integer, MetaData, Table, func, select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from .conftest import postgres_database

metadata = MetaData()
stamps = Table(
    "stamps",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UtcDateTime, nullable=True),
)
pusher_before = Table(  # how the pusher declared its timestamp columns before
    "stamps", MetaData(), Column("id", Integer, primary_key=True), Column("at", DateTime(True))
)

INSTANTS = [
    datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
    datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=2))),  # not UTC: converted
    datetime(1999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    async with contextlib.AsyncExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite+aiosqlite:///{tmp_path / 'stamps.db'}"
        else:
            url = await stack.enter_async_context(postgres_database())
        engine = create_async_engine(url)
        stack.push_async_callback(engine.dispose)
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
        yield engine


async def test_aware_instants_round_trip_as_utc(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            stamps.insert(), [{"id": n, "at": at} for n, at in enumerate(INSTANTS)]
        )
        await connection.execute(stamps.insert(), {"id": 99, "at": None})
        read = dict((await connection.execute(select(stamps.c.id, stamps.c.at))).all())
    assert read.pop(99) is None
    assert list(read.values()) == INSTANTS
    assert all(at.tzinfo is UTC for at in read.values())


async def test_a_naive_datetime_is_refused(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        with pytest.raises(StatementError, match="naive datetime"):
            await connection.execute(stamps.insert(), {"id": 1, "at": datetime(2026, 1, 2)})


async def test_rows_the_pusher_wrote_with_its_former_type_read_back_unchanged(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            pusher_before.insert(),
            [{"id": n, "at": at.astimezone(UTC)} for n, at in enumerate(INSTANTS)],
        )
        read = [at for (at,) in await connection.execute(select(stamps.c.at).order_by("id"))]
        latest = (await connection.execute(select(func.max(stamps.c.at)))).scalar()
    assert read == INSTANTS
    assert UtcDateTime().process_result_value(latest, engine.dialect) == max(INSTANTS)


async def test_sqlite_text_of_every_writer_reads_back_as_the_same_instant(tmp_path: Path) -> None:
    """The pusher's bulk statements bind ``sqlite_timestamp`` text and its webhook triggers
    write ``strftime('%Y-%m-%d %H:%M:%f')`` (milliseconds); the type reads all of them."""
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'stamps.db'}")
    try:
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
            await connection.execute(stamps.insert(), {"id": 1, "at": INSTANTS[0]})
            await connection.execute(
                text("INSERT INTO stamps (id, at) VALUES (2, :at)"),
                {"at": sqlite_timestamp(INSTANTS[1])},
            )
            await connection.execute(
                text("INSERT INTO stamps (id, at) VALUES (3, '2026-01-02 03:04:05.123')")
            )
            raw = (await connection.execute(text("SELECT at FROM stamps WHERE id = 1"))).scalar()
            read = [at for (at,) in await connection.execute(select(stamps.c.at).order_by("id"))]
    finally:
        await engine.dispose()
    assert raw == sqlite_timestamp(INSTANTS[0]) == "2026-01-02 03:04:05.000006"
    assert read == [INSTANTS[0], INSTANTS[1], datetime(2026, 1, 2, 3, 4, 5, 123_000, tzinfo=UTC)]


def test_sqlite_timestamp_refuses_naive_and_passes_none() -> None:
    assert sqlite_timestamp(None) is None
    assert sqlite_timestamp(INSTANTS[1]) == "2026-03-28 23:30:00.000000"
    with pytest.raises(ValueError, match="naive datetime"):
        sqlite_timestamp(datetime(2026, 1, 2))
