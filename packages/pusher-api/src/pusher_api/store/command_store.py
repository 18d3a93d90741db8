"""The command status store: one row per command, moved along its lifecycle.

[scheduled (held until `not_before`, the record value kept in the row) →] queued (row written
before the record goes to Kafka) → sent (broker acknowledged: partition and offset) → delivered →
succeeded | failed | expired | cancelled. Transitions only move forward: every UPDATE names the
states it may leave, so a late or repeated report never downgrades a command, and a cancel and
the scheduler's claim of the same command cannot both win. Each state has its own timestamp
column.

Every change is announced on the store's `ChangeFeed` (server-sent events, webhooks, cancel
answers): on PostgreSQL by a statement trigger that NOTIFYs `pusher_changes` (so every replica
hears every change, committed), on SQLite, where one process owns the file, by the writing code.
A second trigger, on both, writes a `webhook_deliveries` row for every change of a command with
a callback, in the transaction of the change.

`open` brings the schema to the newest revision first (`migrate`: Alembic, one replica at a
time), so a store of an older version, or one made before the store had migrations, keeps its
rows and gets what it lacks.

SQLite (default, WAL) and PostgreSQL are supported through SQLAlchemy 2's async engine. The two
writes every command makes (its row as queued, then its acknowledgement) take whole groups of
commands at once: the dispatcher hands over a batch, or the single commands that arrived
together, because one commit per command would cap the service at a few hundred commands per
second. On SQLite those two writes run on a connection of their own in one thread
(`SqliteWriter`); everything else goes through SQLAlchemy.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg
import structlog
from service_common import sqlite_timestamp
from sqlalchemy import and_, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from pusher_api.changes import Change, ChangeFeed
from pusher_api.errors import DuplicateIdempotencyKeyError
from pusher_api.kafka_producer import Published
from pusher_api.messages import FINAL_STATUSES, AcceptedCommand, CommandStatus, StatusReport
from pusher_api.store.engine import create_store_engine
from pusher_api.store.migrate import migrate, upgrade
from pusher_api.store.records import CommandRecord, ReportsApplied, ScheduledRecord, WebhookDelivery
from pusher_api.store.schema import CHANGES_CHANNEL, commands, status_offsets, webhook_deliveries
from pusher_api.store.sqlite_writer import SqliteWriter
from pusher_api.store.statements import (
    MARK_SENT_UNNEST,
    MULTI_ROW,
    SQLITE_MAX_VARIABLES,
    apply_status_unnest_sql,
    apply_status_values_sql,
    as_is,
    insert_queued_sql,
    insert_queued_unnest_sql,
    mark_sent_sql,
)

log = structlog.get_logger(__name__)

_EARLIER_STATES: dict[CommandStatus, tuple[str, ...]] = {
    CommandStatus.queued: (CommandStatus.scheduled,),
    CommandStatus.sent: (CommandStatus.queued,),
    CommandStatus.delivered: (CommandStatus.queued, CommandStatus.sent),
    **dict.fromkeys(
        FINAL_STATUSES, (CommandStatus.queued, CommandStatus.sent, CommandStatus.delivered)
    ),
    CommandStatus.expired: (
        CommandStatus.scheduled,
        CommandStatus.queued,
        CommandStatus.sent,
        CommandStatus.delivered,
    ),
    # never after delivered: a command that reached its device cannot be taken back
    CommandStatus.cancelled: (CommandStatus.scheduled, CommandStatus.queued, CommandStatus.sent),
}
"""For each state, the states a command may move to it from (never backwards, never final→)."""


class CommandStore:
    """All SQL about commands. Create with `await CommandStore.open(url)`."""

    def __init__(self, engine: AsyncEngine, sqlite_file: str | None = None):
        self.engine = engine
        dialect = engine.dialect
        self.feed = ChangeFeed()
        self._db_time = sqlite_timestamp if dialect.name == "sqlite" else as_is
        # The hot writes on PostgreSQL (and in-memory SQLite): driver-level statements, because
        # SQLAlchemy's per-row parameter processing costs more than the insert itself; with
        # asyncpg, one statement per group (arrays), so the change trigger fires once a group.
        self._unnest = dialect.name == "postgresql" and dialect.driver == "asyncpg"
        self._insert_queued_sql = (
            insert_queued_unnest_sql() if self._unnest else insert_queued_sql(dialect.paramstyle)
        )
        self._mark_sent_sql = (
            MARK_SENT_UNNEST if self._unnest else mark_sent_sql(dialect.paramstyle)
        )
        self._sqlite_writer = SqliteWriter(sqlite_file) if sqlite_file else None
        # PostgreSQL announces changes itself (trigger → NOTIFY → `listen_forever`); on SQLite
        # the code that writes announces them.
        self.announces_itself = dialect.name != "postgresql"
        # SQLite has one writer at a time and makes the others poll for the lock (sleeping in
        # its busy handler); in this process, SQLAlchemy's writers queue here instead and go
        # one after the other at once (`SqliteWriter` queues in its own thread). PostgreSQL
        # takes concurrent writers as they come.
        self._write_lock = asyncio.Lock() if dialect.name == "sqlite" else None

    def _writer(self) -> contextlib.AbstractAsyncContextManager[Any]:
        return self._write_lock if self._write_lock is not None else contextlib.nullcontext()

    def _announce(self, changes: Sequence[Change]) -> None:
        if self.announces_itself and changes:
            self.feed.publish(changes)

    @classmethod
    async def open(cls, url: str, timeout_s: float = 2.0) -> CommandStore:
        """Connect, bring the schema to the newest revision (`migrate.upgrade`), and tune
        SQLite for concurrent writes.

        On PostgreSQL every wait is bounded by ``timeout_s`` (connect, one statement, a free
        pooled connection), so a partitioned database is a 503 within seconds rather than a
        request that hangs; the server's TCP keepalives are shortened so it drops the sessions
        of a vanished host within about half a minute. Migrating, which may wait for another
        replica's migration, runs on a connection of its own without that bound.
        """
        engine, sqlite_file = create_store_engine(url, timeout_s)
        if engine.dialect.name == "sqlite" and sqlite_file is None:
            await upgrade(engine)  # in memory: the store's own connection is the database
        else:
            await migrate(url)
        return cls(engine, sqlite_file)

    async def close(self) -> None:
        """Release all connections."""
        if self._sqlite_writer is not None:
            self._sqlite_writer.close()
        await self.engine.dispose()

    async def listen_forever(self) -> None:
        """PostgreSQL: hear every replica's changes (NOTIFY `pusher_changes`) and publish them
        on `feed`, reconnecting when the connection drops. Returns at once on SQLite."""
        if self.announces_itself:
            return
        url = self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        feed = self.feed

        def heard(_connection: Any, _pid: int, _channel: str, payload: str) -> None:
            changes = []
            for line in payload.split("\n"):
                request_id, device_id, status = line.split(" ")
                changes.append(Change(request_id, device_id, status))
            feed.publish(changes)

        backoff = 0.2
        while True:
            try:
                connection = await asyncpg.connect(url)
            except (OSError, asyncpg.PostgresError) as error:
                feed.listening = False
                log.warning("store.change_listener_disconnected", error=repr(error))
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            lost = asyncio.Event()
            connection.add_termination_listener(functools.partial(_set_event, lost))
            try:
                await connection.add_listener(CHANGES_CHANNEL, heard)
                feed.listening = True
                feed.resync()  # changes may have been missed while not listening
                backoff = 0.2
                await lost.wait()
            finally:
                feed.listening = False
                with contextlib.suppress(Exception):
                    await connection.close(timeout=1)

    # --- writes from the API -------------------------------------------------------------

    async def add_queued(
        self,
        accepted: Sequence[AcceptedCommand],
        idempotency_keys: Sequence[str | None] | None = None,
        fingerprints: Sequence[str | None] | None = None,
        *,
        scheduled: bool = False,
        webhook_url: str | None = None,
    ) -> None:
        """Insert commands in state queued (or scheduled, with their record value kept for the
        scheduler), all in one transaction.

        Raises `DuplicateIdempotencyKeyError` (and writes nothing) when another request took one of
        the keys first.
        """
        to_db = self._db_time
        times: dict[datetime, Any] = {}  # a group's commands share their receipt time
        keys = idempotency_keys or [None] * len(accepted)
        prints = fingerprints or [None] * len(accepted)
        status = "scheduled" if scheduled else "queued"
        rows = []
        for accepted_command, key, fingerprint in zip(accepted, keys, prints, strict=True):
            command, request_id, timestamp, traceparent = accepted_command
            queued_at = times.get(timestamp)
            if queued_at is None:
                queued_at = times[timestamp] = to_db(timestamp)
            callback = command.callback_url
            callback_url = str(callback) if callback is not None else webhook_url
            events = command.callback_events
            rows.append(
                (
                    request_id,
                    key,
                    command.device_id,
                    command.command_type,
                    command.protocol.value,
                    command.priority.value,
                    status,
                    to_db(command.expires_at),
                    queued_at,
                    to_db(command.not_before),
                    accepted_command.kafka_value() if scheduled else None,
                    traceparent,
                    callback_url,
                    events.value if events is not None else None,
                    fingerprint,
                )
            )
        try:
            if self._sqlite_writer is not None:
                await self._sqlite_writer.insert_queued(rows)
            else:
                await self._execute_rows(self._insert_queued_sql, rows)
        except (sqlite3.IntegrityError, IntegrityError) as error:
            if idempotency_keys is None:
                raise
            raise DuplicateIdempotencyKeyError(str(error)) from error
        if self.announces_itself and self.feed.watched:
            self._announce([Change(row[0], row[2], status) for row in rows])

    async def mark_sent(
        self,
        sent: Sequence[tuple[str, Published]],
        at: datetime,
        device_ids: Sequence[str] | None = None,
    ) -> None:
        """Record the broker's partition and offset of each (request_id, acknowledgement);
        queued → sent (later states, reported by a fast connector, are kept). `device_ids`
        (in the order of `sent`) name the devices for the change feed."""
        if not sent:
            return
        at_db = self._db_time(at)
        params = [(ack.partition, ack.offset, at_db, request_id) for request_id, ack in sent]
        if self._sqlite_writer is not None:
            await self._sqlite_writer.mark_sent(params)
        else:
            await self._execute_rows(self._mark_sent_sql, params)
        if self.announces_itself and self.feed.watched:
            devices = device_ids or [""] * len(sent)
            self._announce(
                [
                    Change(request_id, device, "sent")
                    for (request_id, _), device in zip(sent, devices, strict=True)
                ]
            )

    async def _execute_rows(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        async with self._writer(), self.engine.begin() as connection:
            if self._unnest:
                await connection.exec_driver_sql(
                    sql, tuple(list(column) for column in zip(*rows, strict=True))
                )
            else:
                await connection.exec_driver_sql(sql, rows)

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
        if self.announces_itself and self.feed.watched:
            found = await self._devices_of([request_id for request_id, _ in failures])
            self._announce([Change(rid, found.get(rid, ""), "failed") for rid, _ in failures])

    async def _devices_of(self, request_ids: Sequence[str]) -> dict[str, str]:
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(commands.c.request_id, commands.c.device_id).where(
                    commands.c.request_id.in_(list(request_ids))
                )
            )
            return {row[0]: row[1] for row in rows}

    # --- the schedule -----------------------------------------------------------------------

    async def claim_due(self, now: datetime, limit: int = 1000) -> list[ScheduledRecord]:
        """Scheduled commands whose `not_before` has come, moved to queued and returned for
        publishing. One claim per command however many replicas ask (rows are locked and
        skipped on PostgreSQL, SQLite has one writer), and never one that was cancelled: the
        cancel and the claim both leave `scheduled` only if the command is still in it."""
        due = (
            select(commands.c.request_id)
            .where(commands.c.status == CommandStatus.scheduled.value)
            .where(commands.c.not_before <= now)
            .order_by(commands.c.not_before)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        statement = (
            update(commands)
            .where(commands.c.request_id.in_(due.scalar_subquery()))
            .where(commands.c.status == CommandStatus.scheduled.value)
            .values(status=CommandStatus.queued.value)
            .returning(
                commands.c.request_id,
                commands.c.device_id,
                commands.c.command_value,
                commands.c.traceparent,
            )
        )
        async with self._writer(), self.engine.begin() as connection:
            rows = (await connection.execute(statement)).all()
        claimed = [ScheduledRecord(row[0], row[1], row[2] or b"", row[3]) for row in rows]
        self._announce([Change(c.request_id, c.device_id, "queued") for c in claimed])
        return claimed

    async def return_to_schedule(self, request_ids: Sequence[str]) -> None:
        """Claimed commands that Kafka refused go back to scheduled, to be tried again."""
        if not request_ids:
            return
        async with self._writer(), self.engine.begin() as connection:
            await connection.execute(
                update(commands)
                .where(commands.c.request_id.in_(list(request_ids)))
                .where(commands.c.status == CommandStatus.queued.value)
                .values(status=CommandStatus.scheduled.value)
            )

    async def next_due(self) -> datetime | None:
        """The earliest `not_before` of the scheduled commands."""
        async with self.engine.connect() as connection:
            moment = (
                await connection.execute(
                    select(func.min(commands.c.not_before)).where(
                        commands.c.status == CommandStatus.scheduled.value
                    )
                )
            ).scalar()
        if moment is None:
            return None
        if isinstance(moment, str):  # SQLite's aggregate loses the column type
            moment = datetime.fromisoformat(moment)
        assert isinstance(moment, datetime)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment

    # --- cancellation -----------------------------------------------------------------------

    async def cancel_scheduled(self, request_id: str, at: datetime) -> bool:
        """scheduled → cancelled; False when the command is no longer scheduled."""
        return await self._move(
            request_id,
            CommandStatus.cancelled,
            (CommandStatus.scheduled,),
            finished_at=at,
            detail="cancelled before it was due",
        )

    async def request_cancel(self, request_id: str, at: datetime) -> bool:
        """Note that a cancel was asked for a command that is (or is about to be) on Kafka;
        False when it is in no such state any more."""
        async with self._writer(), self.engine.begin() as connection:
            result = await connection.execute(
                update(commands)
                .where(commands.c.request_id == request_id)
                .where(commands.c.status.in_((CommandStatus.queued, CommandStatus.sent)))
                .values(cancel_requested_at=func.coalesce(commands.c.cancel_requested_at, at))
            )
        return bool(result.rowcount)

    async def _move(
        self,
        request_id: str,
        status: CommandStatus,
        sources: tuple[CommandStatus, ...],
        **values: Any,
    ) -> bool:
        async with self._writer(), self.engine.begin() as connection:
            row = (
                await connection.execute(
                    update(commands)
                    .where(commands.c.request_id == request_id)
                    .where(commands.c.status.in_([source.value for source in sources]))
                    .values(status=status.value, **values)
                    .returning(commands.c.device_id)
                )
            ).first()
        if row is None:
            return False
        self._announce([Change(request_id, row[0], status.value)])
        return True

    # --- repair of unrecorded acknowledgements ------------------------------------------------

    async def stale_queued(self, before: datetime, limit: int = 500) -> list[CommandRecord]:
        """Commands still queued that arrived before `before`: their publish outcome was never
        recorded (the write failed, or the replica stopped)."""
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(commands)
                .where(commands.c.status == CommandStatus.queued.value)
                .where(commands.c.queued_at < before)
                .order_by(commands.c.queued_at)
                .limit(limit)
            )
            return [CommandRecord.from_row(row) for row in rows]

    async def mark_lost(self, request_id: str, why: str, reschedule: bool) -> None:
        """A queued command that is not on the topic: back to scheduled when it came from the
        schedule (its value is kept), else failed with its idempotency key freed."""
        if reschedule:
            await self.return_to_schedule([request_id])
        else:
            await self.mark_unpublished([(request_id, why)])

    async def has_value(self, request_id: str) -> bool:
        """Whether the command's record value is kept (it came from the schedule)."""
        async with self.engine.connect() as connection:
            value = (
                await connection.execute(
                    select(commands.c.command_value).where(commands.c.request_id == request_id)
                )
            ).scalar()
        return value is not None

    # --- transitions reported by connectors and by the expiry sweeper ---------------------

    async def apply_reports(
        self,
        reports: Sequence[StatusReport],
        topic: str = "",
        next_offsets: dict[int, int] | None = None,
    ) -> ReportsApplied:
        """Apply connectors' reports, each only if it moves the command forward and names the
        command's device, and record the consumer's `next_offsets` (partition → offset) of
        `topic` in the same transaction."""
        changed: list[Change] = []
        unmatched: list[StatusReport] = []
        async with self._writer(), self.engine.begin() as connection:
            # Offsets first and in partition order: replicas applying the same reports take
            # the partitions' rows in one order, so they queue instead of deadlocking.
            for partition, offset in sorted((next_offsets or {}).items()):
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
            # one statement per status, in lifecycle order (delivered before the final ones)
            by_status: dict[CommandStatus, list[StatusReport]] = {}
            for report in reports:
                by_status.setdefault(report.status, []).append(report)
            for status in sorted(by_status, key=list(CommandStatus).index):
                group = by_status[status]
                applied = await self._apply_status(connection, status, group)
                for report in group:
                    if report.request_id in applied:
                        changed.append(Change(report.request_id, report.device_id, status.value))
                        applied.discard(report.request_id)  # a repeat changes nothing
                    else:
                        unmatched.append(report)
            refused: list[tuple[StatusReport, str]] = []
            if unmatched:
                devices = {
                    row[0]: row[1]
                    for row in await connection.execute(
                        select(commands.c.request_id, commands.c.device_id).where(
                            commands.c.request_id.in_([r.request_id for r in unmatched])
                        )
                    )
                }
                refused = [
                    (report, devices[report.request_id])
                    for report in unmatched
                    if report.request_id in devices
                    and devices[report.request_id] != report.device_id
                ]
        self._announce(changed)
        return ReportsApplied(len(changed), refused)

    async def _apply_status(
        self, connection: Any, status: CommandStatus, reports: list[StatusReport]
    ) -> set[str]:
        """Move the reports' commands to `status` (those that name the right device and are in
        an earlier state) in one statement; returns the request ids that moved."""
        if self._unnest:
            sql = apply_status_unnest_sql(status, _EARLIER_STATES[status])
            params: Any = (
                [r.request_id for r in reports],
                [r.device_id for r in reports],
                [r.timestamp for r in reports],
                [r.detail for r in reports],
            )
            result = await connection.exec_driver_sql(sql, params)
            return {row[0] for row in result}
        if self.engine.dialect.name == "sqlite" and MULTI_ROW:
            moved: set[str] = set()
            per_statement = SQLITE_MAX_VARIABLES // 4
            for start in range(0, len(reports), per_statement):
                chunk = reports[start : start + per_statement]
                sql = apply_status_values_sql(status, _EARLIER_STATES[status], len(chunk))
                flat = [
                    value
                    for r in chunk
                    for value in (
                        r.request_id,
                        r.device_id,
                        sqlite_timestamp(r.timestamp),
                        r.detail,
                    )
                ]
                result = await connection.exec_driver_sql(sql, tuple(flat))
                moved.update(row[0] for row in result)
            return moved
        moved = set()
        column = "delivered_at" if status is CommandStatus.delivered else "finished_at"
        for report in reports:  # other databases: one statement per report
            values: dict[str, Any] = {"status": status.value, column: report.timestamp}
            if report.detail is not None or status.is_final:
                values["detail"] = report.detail
            result = await connection.execute(
                update(commands)
                .where(commands.c.request_id == report.request_id)
                .where(commands.c.device_id == report.device_id)
                .where(commands.c.status.in_(_EARLIER_STATES[status]))
                .values(**values)
            )
            if result.rowcount:
                moved.add(report.request_id)
        return moved

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
            .returning(commands.c.request_id, commands.c.device_id)
        )
        async with self._writer(), self.engine.begin() as connection:
            rows = (await connection.execute(statement)).all()
        self._announce([Change(row[0], row[1], "expired") for row in rows])
        return len(rows)

    # --- webhooks ---------------------------------------------------------------------------

    async def has_due_webhooks(self, now: datetime) -> bool:
        """Whether any delivery is due (a read of one index entry; no lock, no write)."""
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    select(webhook_deliveries.c.id)
                    .where(webhook_deliveries.c.next_attempt_at <= now)
                    .limit(1)
                )
            ).first()
        return row is not None

    async def claim_webhooks(
        self, now: datetime, lease_s: float, limit: int = 100
    ) -> list[WebhookDelivery]:
        """Deliveries that are due, each the oldest open one of its command (a command's
        changes are POSTed in order), leased for `lease_s` so no other replica sends them
        meanwhile."""
        earlier = webhook_deliveries.alias("earlier")
        due = (
            select(webhook_deliveries.c.id)
            .where(webhook_deliveries.c.next_attempt_at <= now)
            .where(
                ~select(earlier.c.id)
                .where(
                    and_(
                        earlier.c.request_id == webhook_deliveries.c.request_id,
                        earlier.c.id < webhook_deliveries.c.id,
                        earlier.c.next_attempt_at.is_not(None),
                    )
                )
                .exists()
            )
            .order_by(webhook_deliveries.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        lease_until = datetime.fromtimestamp(now.timestamp() + lease_s, UTC)
        statement = (
            update(webhook_deliveries)
            .where(webhook_deliveries.c.id.in_(due.scalar_subquery()))
            .values(next_attempt_at=lease_until)
            .returning(*webhook_deliveries.c)
        )
        async with self._writer(), self.engine.begin() as connection:
            rows = (await connection.execute(statement)).all()
        return sorted((WebhookDelivery(**row._mapping) for row in rows), key=lambda d: d.id)

    async def record_webhook(
        self,
        delivery_id: int,
        *,
        delivered_at: datetime | None,
        response_status: int | None,
        error: str | None,
        next_attempt_at: datetime | None,
    ) -> None:
        """The outcome of one attempt: delivered, retried at `next_attempt_at`, or given up
        (both None)."""
        async with self._writer(), self.engine.begin() as connection:
            await connection.execute(
                update(webhook_deliveries)
                .where(webhook_deliveries.c.id == delivery_id)
                .values(
                    attempts=webhook_deliveries.c.attempts + 1,
                    delivered_at=delivered_at,
                    response_status=response_status,
                    last_error=error,
                    next_attempt_at=next_attempt_at,
                )
            )

    async def webhooks_of(self, request_id: str) -> list[WebhookDelivery]:
        """A command's webhook deliveries, oldest first."""
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(webhook_deliveries)
                .where(webhook_deliveries.c.request_id == request_id)
                .order_by(webhook_deliveries.c.id)
            )
            return [WebhookDelivery(**row._mapping) for row in rows]

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

    async def get_many(self, request_ids: Sequence[str]) -> dict[str, CommandRecord]:
        """Commands by request id (those that exist)."""
        if not request_ids:
            return {}
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(commands).where(commands.c.request_id.in_(list(request_ids)))
            )
            return {row.request_id: CommandRecord.from_row(row) for row in rows}

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

    async def ping(self, timeout_s: float = 2.0) -> bool:
        """Whether the store answers a trivial statement within ``timeout_s``."""
        try:
            async with asyncio.timeout(timeout_s), self.engine.connect() as connection:
                await connection.exec_driver_sql("SELECT 1")
        except Exception:
            return False
        return True

    async def count_by_status(self) -> dict[str, int]:
        """How many commands are in each state."""
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(commands.c.status, func.count()).group_by(commands.c.status)
            )
            return {row[0]: row[1] for row in rows}


def _set_event(event: asyncio.Event, *_: object) -> None:
    event.set()
