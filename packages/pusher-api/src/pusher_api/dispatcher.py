"""From an accepted HTTP request to a command on Kafka with its row in the status store.

Order matters: the row is written as `queued` before the record goes to Kafka, so a connector's
report can never arrive for a command the store does not know; after the broker's acknowledgement
the row becomes `sent` with its partition and offset.

Idempotency: the first request with an `Idempotency-Key` (scoped to the caller's API key) owns
it; repeats, also concurrent ones, get the first answer and write nothing. A command that
certainly never reached Kafka frees its key so the retry publishes; one that is unconfirmed (held
by the producer during an outage) keeps it, so a retry cannot send it a second time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import orjson
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from pusher_api.kafka_producer import CommandPublisher, NotPublished, Outcome, Published
from pusher_api.messages import CommandRequest, CommandStatus, DeviceCommand
from pusher_api.metrics import Metrics
from pusher_api.schemas import BatchAccepted, BatchItemResult, CommandAccepted
from pusher_api.settings import Settings
from pusher_api.store import CommandRecord, CommandStore, SentAck

PUBLISHED = "Command published to Kafka"

T = TypeVar("T")


class BrokerUnavailable(Exception):
    """Kafka did not take the command in time; the API answers 503 with this message."""

    def __init__(self, message: str, request_id: str | None = None):
        super().__init__(message)
        self.message = message
        self.request_id = request_id


class CommandDispatcher:
    """Validates what HTTP validation cannot, then stores, publishes and records commands."""

    def __init__(self, settings: Settings, store: CommandStore, metrics: Metrics):
        self._settings = settings
        self._store = store
        self._metrics = metrics
        self.publisher = CommandPublisher(settings, self._on_late_outcome)
        self._inflight: dict[str, asyncio.Future[Any]] = {}
        self._background: set[asyncio.Task[None]] = set()
        self.max_batch_size = settings.max_batch_size

    # --- single command -----------------------------------------------------------------

    async def submit(self, request: CommandRequest, idempotency_key: str | None) -> CommandAccepted:
        """Publish one command, or return the first answer for a repeated idempotency key."""
        if idempotency_key is None:
            return await self._publish_one(request, None)
        return await self._once_per_key(
            idempotency_key, self._first_or_publish(request, idempotency_key)
        )

    async def _first_or_publish(self, request: CommandRequest, key: str) -> CommandAccepted:
        record = await self._store.get_by_idempotency_key(key)
        if record is not None:
            self._metrics.commands.labels("duplicate").inc()
            return _repeat_answer(record)
        return await self._publish_one(request, key)

    async def _publish_one(self, command: CommandRequest, key: str | None) -> CommandAccepted:
        started = time.perf_counter()
        row = _queued_row(command, key)
        if key is None:
            await self._store.add_queued_grouped(row)
        else:
            try:
                await self._store.add_queued([row])
            except IntegrityError:  # another replica took the key between lookup and insert
                record = await self._store.get_by_idempotency_key(key)
                if record is None:
                    raise
                return _repeat_answer(record)
        [outcome] = await self.publisher.publish([command])
        if isinstance(outcome, Published):
            await self._store.mark_sent_grouped(_ack(command, outcome))
            self._metrics.commands.labels("published").inc()
            self._metrics.publish_seconds.observe(time.perf_counter() - started)
            return _accepted(command, outcome)
        self._metrics.commands.labels("unavailable").inc()
        if isinstance(outcome, NotPublished):
            await self._store.mark_unpublished([command.request_id], outcome.reason)
        raise BrokerUnavailable(outcome.reason, command.request_id)

    async def _once_per_key(self, key: str, work: Coroutine[Any, Any, T]) -> T:
        """Run `work` for the first caller with `key`; concurrent callers share its result."""
        running = self._inflight.get(key)
        if running is not None:
            work.close()
            self._metrics.commands.labels("duplicate").inc()
            return cast(T, await asyncio.shield(running))
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            result = await work
        except Exception as error:
            future.set_exception(error)
            future.exception()  # retrieved: no warning when no repeat was waiting
            raise
        else:
            future.set_result(result)
            return result
        finally:
            del self._inflight[key]

    # --- batches ------------------------------------------------------------------------

    async def submit_batch(
        self, items: Sequence[dict[str, Any]], idempotency_key: str | None
    ) -> BatchAccepted:
        """Validate each command on its own, publish the valid ones together, report each."""
        if idempotency_key is None:
            return await self._publish_batch(items, None)
        return await self._once_per_key(
            idempotency_key, self._publish_batch(items, idempotency_key)
        )

    async def _publish_batch(
        self, items: Sequence[dict[str, Any]], key: str | None
    ) -> BatchAccepted:
        started = time.perf_counter()
        results: list[BatchItemResult | None] = [None] * len(items)
        item_keys = [f"{key}#{index}" for index in range(len(items))] if key else []
        earlier = await self._store.get_by_idempotency_keys(item_keys) if key else {}
        commands: list[DeviceCommand] = []
        positions: list[int] = []
        rows: list[dict[str, Any]] = []
        limit = self._settings.max_command_bytes
        for index, item in enumerate(items):
            if key and item_keys[index] in earlier:
                results[index] = _batch_repeat(index, earlier[item_keys[index]])
                continue
            try:
                command = CommandRequest.model_validate(item)
            except ValidationError as error:
                results[index] = _batch_invalid(
                    index, "invalid command", error.errors(include_url=False, include_context=False)
                )
                continue
            if len(orjson.dumps(item)) > limit:
                results[index] = _batch_invalid(
                    index, f"command is larger than MAX_COMMAND_BYTES={limit} bytes"
                )
                continue
            commands.append(command)
            positions.append(index)
            rows.append(_queued_row(command, item_keys[index] if key else None))
        invalid = sum(1 for result in results if result is not None and not result.success)
        self._metrics.commands.labels("rejected").inc(invalid)

        await self._store.add_queued(rows)
        outcomes: list[Outcome] = await self.publisher.publish(commands) if commands else []
        acks: list[SentAck] = []
        unpublished: list[str] = []
        acknowledged_at = datetime.now(UTC)
        for sent, position, outcome in zip(commands, positions, outcomes, strict=True):
            if isinstance(outcome, Published):
                acks.append(_ack(sent, outcome, acknowledged_at))
                results[position] = BatchItemResult(
                    index=position,
                    success=True,
                    request_id=sent.request_id,
                    message=PUBLISHED,
                    timestamp=sent.timestamp,
                    kafka_partition=outcome.partition,
                    kafka_offset=outcome.offset,
                )
            else:
                if isinstance(outcome, NotPublished):
                    unpublished.append(sent.request_id)
                results[position] = BatchItemResult(
                    index=position,
                    success=False,
                    request_id=sent.request_id,
                    message=outcome.reason,
                    timestamp=sent.timestamp,
                )
        await self._store.mark_sent(acks)
        if unpublished:
            await self._store.mark_unpublished(unpublished, "not published: Kafka unavailable")
        self._metrics.commands.labels("published").inc(len(acks))
        self._metrics.commands.labels("unavailable").inc(len(commands) - len(acks))
        if acks:
            self._metrics.publish_seconds.observe(time.perf_counter() - started)
        elif commands:
            raise BrokerUnavailable(next(r.message for r in results if r and r.request_id))
        done = [result for result in results if result is not None]
        successful = sum(1 for result in done if result.success)
        return BatchAccepted(
            total_commands=len(items),
            successful=successful,
            failed=len(items) - successful,
            results=done,
        )

    # --- late acknowledgements ------------------------------------------------------------

    def _on_late_outcome(self, command: DeviceCommand, outcome: Published | NotPublished) -> None:
        """An unconfirmed command's fate became known after its request got a 503."""
        if isinstance(outcome, Published):
            write = self._store.mark_sent([_ack(command, outcome)])
        else:
            write = self._store.mark_unpublished([command.request_id], outcome.reason)
        task = asyncio.ensure_future(write)
        self._background.add(task)
        task.add_done_callback(self._background.discard)


def _queued_row(command: DeviceCommand, idempotency_key: str | None) -> dict[str, Any]:
    return {
        "request_id": command.request_id,
        "idempotency_key": idempotency_key,
        "device_id": command.device_id,
        "command_type": command.command_type,
        "protocol": command.protocol.value,
        "priority": command.priority.value,
        "status": CommandStatus.queued.value,
        "expires_at": command.expires_at,
        "queued_at": command.timestamp,
    }


def _ack(command: DeviceCommand, outcome: Published, at: datetime | None = None) -> SentAck:
    return SentAck(command.request_id, outcome.partition, outcome.offset, at or datetime.now(UTC))


def _accepted(command: DeviceCommand, outcome: Published) -> CommandAccepted:
    return CommandAccepted(
        success=True,
        request_id=command.request_id,
        message=PUBLISHED,
        timestamp=command.timestamp,
        kafka_partition=outcome.partition,
        kafka_offset=outcome.offset,
    )


def _repeat_answer(record: CommandRecord) -> CommandAccepted:
    """The first answer again, rebuilt from the stored row."""
    if record.kafka_offset is None:
        raise BrokerUnavailable(
            "the first request with this Idempotency-Key is not yet confirmed by Kafka "
            "(broker unavailable); retry later with the same key",
            record.request_id,
        )
    return CommandAccepted(
        success=True,
        request_id=record.request_id,
        message=PUBLISHED,
        timestamp=record.queued_at,
        kafka_partition=record.kafka_partition,
        kafka_offset=record.kafka_offset,
    )


def _batch_repeat(index: int, record: CommandRecord) -> BatchItemResult:
    try:
        return BatchItemResult(index=index, **_repeat_answer(record).model_dump())
    except BrokerUnavailable as error:
        return BatchItemResult(
            index=index, success=False, request_id=record.request_id, message=error.message
        )


def _batch_invalid(index: int, message: str, errors: list[Any] | None = None) -> BatchItemResult:
    return BatchItemResult(
        index=index, success=False, request_id=None, message=message, errors=errors
    )
