"""The command status store: one row per command, moved along its lifecycle.

queued (row written before the record goes to Kafka) → sent (broker acknowledged: partition and
offset) → delivered → succeeded | failed | expired. Transitions only move forward: every UPDATE
names the states it may leave, so a late or repeated report never downgrades a command. Each
state has its own timestamp column.

SQLite (default, WAL) and PostgreSQL are supported through SQLAlchemy 2's async engine. Writes
from concurrent single-command requests are grouped into one transaction (`GroupCommit`), and a
batch is one executemany, because one commit per command would cap the service at a few hundred
commands per second.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

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
    event,
    func,
    select,
    text,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.types import TypeDecorator

from pusher_api.messages import FINAL_STATUSES, CommandStatus, StatusReport


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


@dataclass(frozen=True, slots=True)
class SentAck:
    """The broker's acknowledgement of one command record."""

    request_id: str
    partition: int
    offset: int
    at: datetime


T = TypeVar("T")


class GroupCommit(Generic[T]):
    """Collect items from concurrent callers and write each group in one transaction.

    A caller's `submit` returns when the group holding its item is committed, so every caller
    still gets durability before it answers; while one group is being written the next one
    fills up, which is what turns 50 concurrent requests into a handful of commits.
    """

    def __init__(self, write: Callable[[list[T]], Awaitable[None]]):
        self._write = write
        self._pending: list[tuple[T, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> None:
        """Queue `item` and wait until it is committed (re-raising the write's error if any)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        await future

    async def _flush(self) -> None:
        while self._pending:
            group, self._pending = self._pending, []
            try:
                await self._write([item for item, _ in group])
            except Exception as error:  # every caller of the group sees the failure
                for _, future in group:
                    if not future.done():
                        future.set_exception(error)
            else:
                for _, future in group:
                    if not future.done():
                        future.set_result(None)


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
"""The columns of a new row, in the order `_write` binds them."""


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

    def __init__(self, engine: AsyncEngine):
        self.engine = engine
        dialect = engine.dialect
        self._db_time = _sqlite_time if dialect.name == "sqlite" else _as_is
        self._insert_queued_sql = (
            f"INSERT INTO commands ({', '.join(_QUEUED_COLUMNS)}) "
            f"VALUES ({_placeholders(dialect.paramstyle, len(_QUEUED_COLUMNS))})"
        )
        marks = _placeholders(dialect.paramstyle, 4).split(", ")
        self._mark_sent_sql = (
            f"UPDATE commands SET kafka_partition = {marks[0]}, kafka_offset = {marks[1]}, "
            f"sent_at = {marks[2]}, status = CASE WHEN status = 'queued' THEN 'sent' "
            f"ELSE status END WHERE request_id = {marks[3]}"
        )
        self._grouped = GroupCommit[dict[str, Any] | SentAck](self._write_group)
        # SQLite has one writer at a time and makes the others poll for the lock (sleeping in
        # its busy handler); in this process, writers queue here instead and go one after the
        # other at once. PostgreSQL takes concurrent writers as they come.
        sqlite = dialect.name == "sqlite"
        self._write_lock = asyncio.Lock() if sqlite else None

    def _writer(self) -> contextlib.AbstractAsyncContextManager[Any]:
        return self._write_lock if self._write_lock is not None else contextlib.nullcontext()

    @classmethod
    async def open(cls, url: str) -> CommandStore:
        """Connect, create the table when missing, and tune SQLite for concurrent writes."""
        parsed = make_url(url)
        options: dict[str, Any] = {}
        if parsed.get_backend_name() == "sqlite":
            database = parsed.database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            options["connect_args"] = {"timeout": 30}
        else:
            options.update(pool_size=10, max_overflow=10, pool_pre_ping=True)
        engine = create_async_engine(url, **options)
        if parsed.get_backend_name() == "sqlite":

            @event.listens_for(engine.sync_engine, "connect")
            def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
                # 64 MiB page cache (default 2 MiB): the primary-key index of a busy store
                # outgrows the default, and every insert or update then reads pages from disk.
                cursor.execute("PRAGMA cache_size=-65536")
                cursor.close()

        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
        return cls(engine)

    async def close(self) -> None:
        """Release all connections."""
        await self.engine.dispose()

    # --- writes from the API -------------------------------------------------------------

    async def add_queued(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert commands in state queued (one executemany); rows are `commands` columns."""
        await self._write(rows, [])

    async def mark_sent(self, acks: Sequence[SentAck]) -> None:
        """Record the broker's partition and offset; queued → sent (later states are kept)."""
        await self._write([], acks)

    async def add_queued_grouped(self, row: dict[str, Any]) -> None:
        """`add_queued` for one command, committed with concurrent callers' rows and acks."""
        await self._grouped.submit(row)

    async def mark_sent_grouped(self, ack: SentAck) -> None:
        """`mark_sent` for one command, committed with concurrent callers' rows and acks."""
        await self._grouped.submit(ack)

    async def _write_group(self, items: list[dict[str, Any] | SentAck]) -> None:
        rows = [item for item in items if isinstance(item, dict)]
        acks = [item for item in items if isinstance(item, SentAck)]
        await self._write(rows, acks)

    async def _write(self, rows: Sequence[dict[str, Any]], acks: Sequence[SentAck]) -> None:
        """New rows and acknowledgements in one transaction, each kind one executemany.

        The hot path of every command, so driver-level statements: SQLAlchemy's per-row
        parameter processing costs more than SQLite's insert itself. An ack always belongs to
        a row committed earlier (the row is written before the record is sent).
        """
        if not rows and not acks:
            return
        to_db = self._db_time
        async with self._writer(), self.engine.begin() as connection:
            if rows:
                params = [
                    (
                        row["request_id"],
                        row.get("idempotency_key"),
                        row["device_id"],
                        row["command_type"],
                        row["protocol"],
                        row["priority"],
                        row["status"],
                        to_db(row.get("expires_at")),
                        to_db(row["queued_at"]),
                    )
                    for row in rows
                ]
                await connection.exec_driver_sql(self._insert_queued_sql, params)
            if acks:
                sent = [(a.partition, a.offset, to_db(a.at), a.request_id) for a in acks]
                await connection.exec_driver_sql(self._mark_sent_sql, sent)

    async def mark_unpublished(self, request_ids: Sequence[str], detail: str) -> None:
        """Commands that certainly never reached Kafka: failed, and their idempotency key freed
        so the client's retry with the same key publishes anew."""
        if not request_ids:
            return
        statement = (
            update(commands)
            .where(commands.c.request_id.in_(list(request_ids)))
            .where(commands.c.status == CommandStatus.queued.value)
            .values(
                status=CommandStatus.failed.value,
                detail=detail,
                finished_at=datetime.now(UTC),
                idempotency_key=None,
            )
        )
        async with self._writer(), self.engine.begin() as connection:
            await connection.execute(statement)

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
