"""SQLite's two hot writes on a connection of their own, in one thread."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pusher_api.store.statements import (
    INSERT_QUEUED,
    MARK_SENT,
    MULTI_ROW,
    SQLITE_MAX_VARIABLES,
    RowsStatement,
)

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    # 64 MiB page cache (default 2 MiB): the primary-key index of a busy store outgrows the
    # default, and every insert or update then reads pages from disk.
    "PRAGMA cache_size=-65536",
)


class SqliteWriter:
    """SQLite's two hot writes (new commands, acknowledgements) on a connection of their own,
    in one thread, as multi-row statements.

    Through SQLAlchemy's async adapter a transaction is five hand-offs to aiosqlite's thread
    (begin, statements, commit, reset), each waiting for the GIL while the event loop is busy;
    and `executemany` releases and retakes the GIL for every row. Measured under load, that
    made each group commit take tens of milliseconds and the store set the pace of the whole
    service. Here a transaction is one hand-off, and each statement carries up to
    `_ROWS_PER_STATEMENT` rows, so SQLite does its B-tree work with the GIL released, on the
    other core, while the event loop goes on.

    Writes queue in the thread's executor, not behind the store's asyncio lock: the thread goes
    from one to the next without waiting for the busy event loop to hand it over. SQLAlchemy's
    writers (reports, expiry; rare) meet it at SQLite's own lock and wait in its busy handler,
    off the loop. `UPDATE … FROM` needs SQLite 3.33; older libraries get one statement per
    row. Same pragmas and busy timeout as the engine's.
    """

    def __init__(self, database: str):
        self._database = database
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pusher-store")
        self._connection: sqlite3.Connection | None = None

    async def insert_queued(self, rows: list[tuple[Any, ...]]) -> None:
        """Insert rows of `QUEUED_COLUMNS` in one transaction."""
        await self._run(INSERT_QUEUED, rows)

    async def mark_sent(self, rows: list[tuple[Any, ...]]) -> None:
        """Apply (partition, offset, sent_at, request_id) acknowledgements in one transaction."""
        await self._run(MARK_SENT, rows)

    async def _run(self, statement: RowsStatement, rows: list[tuple[Any, ...]]) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._write, statement, rows)

    def _write(self, statement: RowsStatement, rows: list[tuple[Any, ...]]) -> None:
        if self._connection is None:
            connection = sqlite3.connect(self._database, timeout=30, check_same_thread=False)
            for pragma in SQLITE_PRAGMAS:
                connection.execute(pragma)
            self._connection = connection
        with self._connection:
            if not MULTI_ROW:
                self._connection.executemany(statement.per_row, rows)
                return
            per_statement = SQLITE_MAX_VARIABLES // statement.width
            for start in range(0, len(rows), per_statement):
                chunk = rows[start : start + per_statement]
                self._connection.execute(
                    statement.sql(len(chunk)), list(itertools.chain.from_iterable(chunk))
                )

    def close(self) -> None:
        """Close the connection and stop the thread (waits for a running transaction)."""

        def close_connection() -> None:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

        self._executor.submit(close_connection)
        self._executor.shutdown(wait=True)
