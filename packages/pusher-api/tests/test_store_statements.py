"""The multi-row statements against the one-row form beside them: the same rows in the table
after inserting and acknowledging a group, across the bind-variable limit's chunk boundary."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pusher_api.store import CommandStore
from pusher_api.store.sqlite_writer import SqliteWriter
from pusher_api.store.statements import (
    INSERT_QUEUED,
    MARK_SENT,
    MULTI_ROW,
    QUEUED_COLUMNS,
    SQLITE_MAX_VARIABLES,
)
from service_common import sqlite_timestamp

pytestmark = pytest.mark.skipif(not MULTI_ROW, reason="SQLite older than 3.33: one row a time")


def queued_rows(count: int) -> list[tuple[Any, ...]]:
    start = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    rows = []
    for n in range(count):
        some = n % 3 == 0
        rows.append(
            (
                f"req-{n:06d}",
                f"caller:key-{n}" if some else None,
                f"dev-{n % 17}",
                "reboot",
                "mqtt" if n % 2 else "coap",
                "high" if some else "normal",
                "scheduled" if n % 5 == 0 else "queued",
                sqlite_timestamp(start + timedelta(hours=1)) if some else None,
                sqlite_timestamp(start + timedelta(microseconds=n)),
                sqlite_timestamp(start + timedelta(minutes=n)) if n % 5 == 0 else None,
                bytes([n % 256]) * 3 if n % 5 == 0 else None,
                None if some else f"00-{n:032x}-{n:016x}-01",
                "https://example.test/hook" if n % 7 == 0 else None,
                "final" if n % 14 == 0 else None,
                f"{n:064x}" if some else None,
            )
        )
    return rows


def table(database: Path, name: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(database) as connection:
        return connection.execute(f"SELECT * FROM {name} ORDER BY 1, 2").fetchall()


async def empty_store(path: Path) -> Path:
    store = await CommandStore.open(f"sqlite+aiosqlite:///{path}")
    await store.close()
    return path


async def test_multi_row_statements_write_what_one_row_statements_write(tmp_path: Path) -> None:
    count = SQLITE_MAX_VARIABLES // len(QUEUED_COLUMNS) + 300  # two statements, the last short
    rows = queued_rows(count)
    acknowledgements = [
        (n % 4, 10_000 + n, sqlite_timestamp(datetime(2026, 1, 2, 4, tzinfo=UTC)), row[0])
        for n, row in enumerate(rows)
        if n % 9
    ]
    fast = await empty_store(tmp_path / "fast.db")
    reference = await empty_store(tmp_path / "reference.db")

    writer = SqliteWriter(str(fast))
    try:
        await writer.insert_queued(rows)
        await writer.mark_sent(acknowledgements)
    finally:
        writer.close()
    with sqlite3.connect(reference) as connection:
        connection.executemany(INSERT_QUEUED.per_row, rows)
        connection.executemany(MARK_SENT.per_row, acknowledgements)

    commands = table(fast, "commands")
    assert len(commands) == count
    assert commands == table(reference, "commands")
    # the webhook trigger fired for the same changes on both paths (its times differ)
    fast_hooks = [row[1:4] for row in table(fast, "webhook_deliveries")]
    assert fast_hooks
    assert fast_hooks == [row[1:4] for row in table(reference, "webhook_deliveries")]


def test_one_statement_takes_as_many_rows_as_the_bind_limit_allows() -> None:
    statement = INSERT_QUEUED.sql(3)
    assert statement.count("?") == 3 * len(QUEUED_COLUMNS)
    assert statement.startswith(f"INSERT INTO commands ({', '.join(QUEUED_COLUMNS)}) VALUES (")
    assert MARK_SENT.sql(2).count("?") == 8
