"""The command status store: one row per command, moved along its lifecycle.

queued (row written before the record goes to Kafka) → sent (broker acknowledged: partition and
offset) → delivered → succeeded | failed | expired. Transitions only move forward: every UPDATE
names the states it may leave, so a late or repeated report never downgrades a command. Each
state has its own timestamp column.

SQLite (default, WAL) and PostgreSQL are supported through SQLAlchemy 2's async engine. The two
writes every command makes (its row as queued, then its acknowledgement) take whole groups of
commands at once: the dispatcher hands over a batch, or the single commands that arrived
together, because one commit per command would cap the service at a few hundred commands per
second. On SQLite those two writes run on a connection of their own in one thread
(`_SqliteWriter`); everything else goes through SQLAlchemy.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import sqlite3
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    event,
    func,
    select,
    text,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.types import TypeDecorator

from pusher_api.kafka_producer import Published
from pusher_api.messages import FINAL_STATUSES, AcceptedCommand, CommandStatus, StatusReport


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored in UTC and always read back timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

commands = Table(
    "commands",
    metadata,
    Column("request_id", String(36), primary_key=True),
    Column("idempotency_key", String(300), nullable=True),
    Column("device_id", String(128), nullable=False),
    Column("command_type", String(128), nullable=False),
    Column("protocol", String(16), nullable=False),
    Column("priority", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("detail", Text, nullable=True),
    Column("kafka_partition", Integer, nullable=True),
    Column("kafka_offset", BigInteger, nullable=True),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("queued_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime, nullable=True),
    Column("delivered_at", UTCDateTime, nullable=True),
    Column("finished_at", UTCDateTime, nullable=True),
    # Partial indexes: most commands have neither key nor expiry, and every index entry costs
    # time on the hot insert path.
    Index(
        "ux_commands_idempotency_key",
        "idempotency_key",
        unique=True,
        sqlite_where=text("idempotency_key IS NOT NULL"),
        postgresql_where=text("idempotency_key IS NOT NULL"),
    ),
    Index(
        "ix_commands_expires_at",
        "expires_at",
        sqlite_where=text("expires_at IS NOT NULL"),
        postgresql_where=text("expires_at IS NOT NULL"),
    ),
)

status_offsets = Table(
    "status_offsets",
    metadata,
    Column("topic", String(255), primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("next_offset", BigInteger, nullable=False),
)
"""Where the status consumer resumes, per partition; written in the same transaction as the
transitions it applied, so a crash neither loses nor double-counts a report."""

_EARLIER_STATES: dict[CommandStatus, tuple[str, ...]] = {
    CommandStatus.sent: (CommandStatus.queued,),
    CommandStatus.delivered: (CommandStatus.queued, CommandStatus.sent),
    **dict.fromkeys(
        FINAL_STATUSES, (CommandStatus.queued, CommandStatus.sent, CommandStatus.delivered)
    ),
}
"""For each state, the states a command may move to it from (never backwards, never final→)."""


@dataclass(frozen=True, slots=True)
class CommandRecord:
    """A command's row as the API reports it."""

    request_id: str
    device_id: str
    command_type: str
    protocol: str
    priority: str
    status: CommandStatus
    detail: str | None
    kafka_partition: int | None
    kafka_offset: int | None
    expires_at: datetime | None
    queued_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def from_row(cls, row: Any) -> CommandRecord:
        """Build from a result row of the `commands` table."""
        values = dict(row._mapping)
        values.pop("idempotency_key", None)
        values["status"] = CommandStatus(values["status"])
        return cls(**values)


class DuplicateIdempotencyKey(Exception):
    """Another request (in this process or another replica) already holds the idempotency key."""


SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    # 64 MiB page cache (default 2 MiB): the primary-key index of a busy store outgrows the
    # default, and every insert or update then reads pages from disk.
    "PRAGMA cache_size=-65536",
)


class _SqliteWriter:
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
        """Insert rows of `_QUEUED_COLUMNS` in one transaction."""
        await self._run(_INSERT_QUEUED, rows)

    async def mark_sent(self, rows: list[tuple[Any, ...]]) -> None:
        """Apply (partition, offset, sent_at, request_id) acknowledgements in one transaction."""
        await self._run(_MARK_SENT, rows)

    async def _run(self, statement: _RowsStatement, rows: list[tuple[Any, ...]]) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._write, statement, rows)

    def _write(self, statement: _RowsStatement, rows: list[tuple[Any, ...]]) -> None:
        if self._connection is None:
            connection = sqlite3.connect(self._database, timeout=30, check_same_thread=False)
            for pragma in SQLITE_PRAGMAS:
                connection.execute(pragma)
            self._connection = connection
        with self._connection:
            if not _MULTI_ROW:
                self._connection.executemany(statement.per_row, rows)
                return
            for start in range(0, len(rows), _ROWS_PER_STATEMENT):
                chunk = rows[start : start + _ROWS_PER_STATEMENT]
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


_MULTI_ROW = sqlite3.sqlite_version_info >= (3, 33)
_ROWS_PER_STATEMENT = 3000
"""9 × 3,000 bind variables at most, under SQLite's limit of 32,766."""


@dataclass(frozen=True)
class _RowsStatement:
    """An SQLite statement over a `VALUES` list of `width`-column rows, and `per_row`, the same
    write for one row (what `executemany` runs where `UPDATE … FROM` is missing)."""

    template: str
    width: int
    per_row: str

    @functools.lru_cache(maxsize=64)  # noqa: B019 - two module-level instances, never freed
    def sql(self, rows: int) -> str:
        """The statement for `rows` rows (its text is also the key of sqlite3's statement
        cache)."""
        row = "(" + ", ".join("?" * self.width) + ")"
        return self.template.format(values=", ".join([row] * rows))


_QUEUED_COLUMNS = (
    "request_id",
    "idempotency_key",
    "device_id",
    "command_type",
    "protocol",
    "priority",
    "status",
    "expires_at",
    "queued_at",
)
"""The columns of a new row, in the order they are bound."""


def _insert_queued_sql(paramstyle: str) -> str:
    """The insert of one new row, with the driver's bind markers."""
    marks = _placeholders(paramstyle, len(_QUEUED_COLUMNS))
    return f"INSERT INTO commands ({', '.join(_QUEUED_COLUMNS)}) VALUES ({marks})"


def _mark_sent_sql(paramstyle: str) -> str:
    """The acknowledgement of one row: (partition, offset, sent_at, request_id)."""
    partition, offset, sent_at, request_id = _placeholders(paramstyle, 4).split(", ")
    return (
        f"UPDATE commands SET kafka_partition = {partition}, kafka_offset = {offset}, "
        f"sent_at = {sent_at}, status = CASE WHEN status = 'queued' THEN 'sent' "
        f"ELSE status END WHERE request_id = {request_id}"
    )


def _placeholders(paramstyle: str, count: int) -> str:
    """Bind markers in the driver's own style, for statements run with `exec_driver_sql`."""
    if paramstyle == "qmark":
        return ", ".join("?" * count)
    if paramstyle in ("numeric_dollar", "numeric"):
        sign = "$" if paramstyle == "numeric_dollar" else ":"
        return ", ".join(f"{sign}{n}" for n in range(1, count + 1))
    if paramstyle == "format":
        return ", ".join(["%s"] * count)
    raise ValueError(f"unsupported database driver paramstyle {paramstyle!r}")


_INSERT_QUEUED = _RowsStatement(
    f"INSERT INTO commands ({', '.join(_QUEUED_COLUMNS)}) VALUES {{values}}",
    len(_QUEUED_COLUMNS),
    _insert_queued_sql("qmark"),
)
_MARK_SENT = _RowsStatement(
    "UPDATE commands SET kafka_partition = sent.column1, kafka_offset = sent.column2, "
    "sent_at = sent.column3, status = CASE WHEN commands.status = 'queued' THEN 'sent' "
    "ELSE commands.status END FROM (VALUES {values}) AS sent "
    "WHERE commands.request_id = sent.column4",
    4,
    _mark_sent_sql("qmark"),
)


def _sqlite_time(value: datetime | None) -> str | None:
    """A UTC timestamp as SQLAlchemy stores it in SQLite, so both write paths compare equal."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


def _as_is(value: datetime | None) -> datetime | None:
    return value


class CommandStore:
    """All SQL about commands. Create with `await CommandStore.open(url)`."""

    def __init__(self, engine: AsyncEngine, sqlite_file: str | None = None):
        self.engine = engine
        dialect = engine.dialect
        self._db_time = _sqlite_time if dialect.name == "sqlite" else _as_is
        # The hot writes on PostgreSQL (and in-memory SQLite): driver-level statements, because
        # SQLAlchemy's per-row parameter processing costs more than the insert itself.
        self._insert_queued_sql = _insert_queued_sql(dialect.paramstyle)
        self._mark_sent_sql = _mark_sent_sql(dialect.paramstyle)
        self._sqlite_writer = _SqliteWriter(sqlite_file) if sqlite_file else None
        # SQLite has one writer at a time and makes the others poll for the lock (sleeping in
        # its busy handler); in this process, SQLAlchemy's writers queue here instead and go
        # one after the other at once (`_SqliteWriter` queues in its own thread). PostgreSQL
        # takes concurrent writers as they come.
        self._write_lock = asyncio.Lock() if dialect.name == "sqlite" else None

    def _writer(self) -> contextlib.AbstractAsyncContextManager[Any]:
        return self._write_lock if self._write_lock is not None else contextlib.nullcontext()

    @classmethod
    async def open(cls, url: str) -> CommandStore:
        """Connect, create the table when missing, and tune SQLite for concurrent writes."""
        parsed = make_url(url)
        options: dict[str, Any] = {}
        sqlite_file: str | None = None
        if parsed.get_backend_name() == "sqlite":
            database = parsed.database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
                sqlite_file = database
            options["connect_args"] = {"timeout": 30}
        else:
            options.update(pool_size=10, max_overflow=10, pool_pre_ping=True)
        engine = create_async_engine(url, **options)
        if parsed.get_backend_name() == "sqlite":

            @event.listens_for(engine.sync_engine, "connect")
            def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
                cursor = dbapi_connection.cursor()
                for pragma in SQLITE_PRAGMAS:
                    cursor.execute(pragma)
                cursor.close()

        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
        return cls(engine, sqlite_file)

    async def close(self) -> None:
        """Release all connections."""
        if self._sqlite_writer is not None:
            self._sqlite_writer.close()
        await self.engine.dispose()

    # --- writes from the API -------------------------------------------------------------

    async def add_queued(
        self,
        accepted: Sequence[AcceptedCommand],
        idempotency_keys: Sequence[str | None] | None = None,
    ) -> None:
        """Insert commands in state queued, all in one transaction.

        Raises `DuplicateIdempotencyKey` (and writes nothing) when another request took one of
        the keys first.
        """
        to_db = self._db_time
        times: dict[datetime, Any] = {}  # a group's commands share their receipt time
        keys = idempotency_keys or [None] * len(accepted)
        params = []
        for (command, request_id, timestamp), key in zip(accepted, keys, strict=True):
            queued_at = times.get(timestamp)
            if queued_at is None:
                queued_at = times[timestamp] = to_db(timestamp)
            params.append(
                (
                    request_id,
                    key,
                    command.device_id,
                    command.command_type,
                    command.protocol.value,
                    command.priority.value,
                    "queued",
                    to_db(command.expires_at),
                    queued_at,
                )
            )
        try:
            if self._sqlite_writer is not None:
                await self._sqlite_writer.insert_queued(params)
            else:
                await self._execute_many(self._insert_queued_sql, params)
        except (sqlite3.IntegrityError, IntegrityError) as error:
            if idempotency_keys is None:
                raise
            raise DuplicateIdempotencyKey(str(error)) from error

    async def mark_sent(self, sent: Sequence[tuple[str, Published]], at: datetime) -> None:
        """Record the broker's partition and offset of each (request_id, acknowledgement);
        queued → sent (later states, reported by a fast connector, are kept)."""
        if not sent:
            return
        at_db = self._db_time(at)
        params = [(ack.partition, ack.offset, at_db, request_id) for request_id, ack in sent]
        if self._sqlite_writer is not None:
            await self._sqlite_writer.mark_sent(params)
        else:
            await self._execute_many(self._mark_sent_sql, params)

    async def _execute_many(self, sql: str, params: list[tuple[Any, ...]]) -> None:
        async with self._writer(), self.engine.begin() as connection:
            await connection.exec_driver_sql(sql, params)

    async def mark_unpublished(self, failures: Sequence[tuple[str, str]]) -> None:
        """Commands that certainly never reached Kafka, as (request_id, why): failed, and their
        idempotency key freed so the client's retry with the same key publishes anew."""
        if not failures:
            return
        statement = (
            update(commands)
            .where(commands.c.request_id == bindparam("unpublished_id"))
            .where(commands.c.status == CommandStatus.queued.value)
            .values(
                status=CommandStatus.failed.value,
                detail=bindparam("why"),
                finished_at=datetime.now(UTC),
                idempotency_key=None,
            )
        )
        params = [{"unpublished_id": request_id, "why": why} for request_id, why in failures]
        async with self._writer(), self.engine.begin() as connection:
            await connection.execute(statement, params)

    # --- transitions reported by connectors and by the expiry sweeper ---------------------

    async def apply_reports(
        self,
        reports: Sequence[StatusReport],
        topic: str = "",
        next_offsets: dict[int, int] | None = None,
    ) -> int:
        """Apply connectors' reports, each only if it moves the command forward, and record the
        consumer's `next_offsets` (partition → offset) of `topic` in the same transaction.
        Returns how many commands changed."""
        changed = 0
        async with self._writer(), self.engine.begin() as connection:
            for partition, offset in (next_offsets or {}).items():
                moved = await connection.execute(
                    update(status_offsets)
                    .where(status_offsets.c.topic == topic)
                    .where(status_offsets.c.partition == partition)
                    .values(next_offset=offset)
                )
                if moved.rowcount == 0:
                    await connection.execute(
                        status_offsets.insert().values(
                            topic=topic, partition=partition, next_offset=offset
                        )
                    )
            for report in reports:
                status = report.status
                column = "delivered_at" if status is CommandStatus.delivered else "finished_at"
                values: dict[str, Any] = {"status": status.value, column: report.timestamp}
                if report.detail is not None or status.is_final:
                    values["detail"] = report.detail
                result = await connection.execute(
                    update(commands)
                    .where(commands.c.request_id == report.request_id)
                    .where(commands.c.status.in_(_EARLIER_STATES[status]))
                    .values(**values)
                )
                changed += result.rowcount
        return changed

    async def expire_due(self, now: datetime) -> int:
        """Commands past `expires_at` that are not final become expired; returns how many."""
        statement = (
            update(commands)
            .where(commands.c.status.in_(_EARLIER_STATES[CommandStatus.expired]))
            .where(commands.c.expires_at <= now)
            .values(
                status=CommandStatus.expired.value,
                finished_at=now,
                detail="expires_at passed before the device confirmed the command",
            )
        )
        async with self._writer(), self.engine.begin() as connection:
            result = await connection.execute(statement)
        return result.rowcount

    # --- reads ----------------------------------------------------------------------------

    async def get(self, request_id: str) -> CommandRecord | None:
        """One command by its request id."""
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    select(commands).where(commands.c.request_id == request_id)
                )
            ).first()
        return CommandRecord.from_row(row) if row else None

    async def get_by_idempotency_key(self, key: str) -> CommandRecord | None:
        """The command first published under this (client-scoped) idempotency key."""
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(select(commands).where(commands.c.idempotency_key == key))
            ).first()
        return CommandRecord.from_row(row) if row else None

    async def get_by_idempotency_keys(self, keys: Sequence[str]) -> dict[str, CommandRecord]:
        """The commands first published under any of these keys, by key."""
        if not keys:
            return {}
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(commands).where(commands.c.idempotency_key.in_(list(keys)))
            )
            return {row.idempotency_key: CommandRecord.from_row(row) for row in rows}

    async def status_offsets(self, topic: str) -> dict[int, int]:
        """Where the status consumer resumes on `topic`: partition → next offset."""
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(status_offsets.c.partition, status_offsets.c.next_offset).where(
                    status_offsets.c.topic == topic
                )
            )
            return {row[0]: row[1] for row in rows}

    async def count_by_status(self) -> dict[str, int]:
        """How many commands are in each state."""
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(commands.c.status, func.count()).group_by(commands.c.status)
            )
            return {row[0]: row[1] for row in rows}
