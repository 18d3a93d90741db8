"""From an accepted HTTP request to a command on Kafka with its row in the status store.

Order matters: the rows are written as `queued` before the records go to Kafka, so a connector's
report can never arrive for a command the store does not know; after the broker's acknowledgement
the rows become `sent` with their partition and offset.

Commands travel in groups: a batch is one group, and single commands that arrive together are
coalesced into one (`Coalescer`), so each group costs one insert, one record batch per Kafka
partition and one update, however many commands it holds.

Idempotency: the first request with an `Idempotency-Key` (scoped to the caller's API key) owns
it; repeats, also concurrent ones, get the first answer and write nothing. A command that
certainly never reached Kafka frees its key so the retry publishes; one that is unconfirmed (held
by the producer during an outage) keeps it, so a retry cannot send it a second time.

Answers are JSON-ready dicts shaped as `schemas.CommandAccepted` and `schemas.BatchAccepted`
(which document them in the OpenAPI schema): the routes write them with orjson, skipping a
second validation of what this module just built.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import orjson
from pydantic import TypeAdapter, ValidationError

from pusher_api.coalescer import Coalescer
from pusher_api.kafka_producer import CommandPublisher, NotPublished, Outcome, Published
from pusher_api.messages import (
    AcceptedCommand,
    CommandRequest,
    new_request_ids,
    validation_errors,
)
from pusher_api.metrics import Metrics
from pusher_api.settings import Settings
from pusher_api.store import CommandRecord, CommandStore, DuplicateIdempotencyKey

PUBLISHED = "Command published to Kafka"

T = TypeVar("T")
Answer = dict[str, Any]

_COMMANDS = TypeAdapter(list[CommandRequest])


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
        self._singles = Coalescer(self._publish)
        self._inflight: dict[str, asyncio.Future[Any]] = {}
        self._background: set[asyncio.Task[None]] = set()
        self.max_batch_size = settings.max_batch_size

    # --- single command -----------------------------------------------------------------

    async def submit(self, command: CommandRequest, idempotency_key: str | None) -> Answer:
        """Publish one command, or return the first answer for a repeated idempotency key."""
        if idempotency_key is None:
            accepted, outcome = await self._singles.submit(command)
            return _single_answer(accepted, outcome)
        return await self._once_per_key(
            idempotency_key, self._first_or_publish(command, idempotency_key)
        )

    async def _first_or_publish(self, command: CommandRequest, key: str) -> Answer:
        record = await self._store.get_by_idempotency_key(key)
        if record is None:
            try:
                [(accepted, outcome)] = await self._publish([command], [key])
            except DuplicateIdempotencyKey:  # another replica took it between lookup and insert
                record = await self._store.get_by_idempotency_key(key)
                if record is None:
                    raise
            else:
                return _single_answer(accepted, outcome)
        self._metrics.duplicate.inc()
        return _repeat_answer(record)

    async def _once_per_key(self, key: str, work: Coroutine[Any, Any, T]) -> T:
        """Run `work` for the first caller with `key`; concurrent callers share its result."""
        running = self._inflight.get(key)
        if running is not None:
            work.close()
            self._metrics.duplicate.inc()
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
        self, items: list[Any], idempotency_key: str | None, body_bytes: int
    ) -> Answer:
        """Validate each command on its own, publish the valid ones together, report each.

        `body_bytes` is the request body's size: when it is within `MAX_COMMAND_BYTES` no item
        can be over it, and the per-item size check is skipped.
        """
        if idempotency_key is None:
            return await self._publish_batch(items, None, body_bytes)
        return await self._once_per_key(
            idempotency_key, self._publish_batch(items, idempotency_key, body_bytes)
        )

    async def _publish_batch(self, items: list[Any], key: str | None, body_bytes: int) -> Answer:
        results: list[Answer | None] = [None] * len(items)
        positions = list(range(len(items)))
        if key:
            item_keys = [f"{key}#{index}" for index in positions]
            earlier = await self._store.get_by_idempotency_keys(item_keys)
            for index, item_key in enumerate(item_keys):
                if item_key in earlier:
                    results[index] = _batch_repeat(index, earlier[item_key])
            positions = [index for index in positions if results[index] is None]
        commands = self._validate_batch(items, positions, results, body_bytes)
        positions = [index for index in positions if results[index] is None]
        keys = [f"{key}#{index}" for index in positions] if key else None

        published = 0
        for index, (accepted, outcome) in zip(
            positions, await self._publish(commands, keys) if commands else [], strict=True
        ):
            if isinstance(outcome, Published):
                published += 1
                results[index] = _batch_item(index, True, accepted, PUBLISHED, outcome)
            else:
                results[index] = _batch_item(index, False, accepted, outcome.reason)
        if commands and not published:
            raise BrokerUnavailable(next(r["message"] for r in results if r and r["request_id"]))
        done = cast(list[Answer], results)
        successful = sum(1 for result in done if result["success"])
        return {
            "total_commands": len(items),
            "successful": successful,
            "failed": len(items) - successful,
            "results": done,
        }

    def _validate_batch(
        self,
        items: list[Any],
        positions: list[int],
        results: list[Answer | None],
        body_bytes: int,
    ) -> list[CommandRequest]:
        """The valid commands at `positions`, in order; each invalid one gets its result.

        All at once first (one call into pydantic-core); only when that fails, one by one to
        tell which are invalid and why.
        """
        chosen = items if len(positions) == len(items) else [items[i] for i in positions]
        invalid = 0
        try:
            commands = _COMMANDS.validate_python(chosen)
        except ValidationError:
            commands = []
            for index, item in zip(positions, chosen, strict=True):
                try:
                    commands.append(CommandRequest.model_validate(item))
                except ValidationError as error:
                    invalid += 1
                    results[index] = _batch_invalid(
                        index, "invalid command", validation_errors(error)
                    )
        limit = self._settings.max_command_bytes
        if body_bytes > limit:
            valid = [index for index in positions if results[index] is None]
            kept = []
            for index, command in zip(valid, commands, strict=True):
                if len(orjson.dumps(items[index])) > limit:
                    invalid += 1
                    results[index] = _batch_invalid(
                        index, f"command is larger than MAX_COMMAND_BYTES={limit} bytes"
                    )
                else:
                    kept.append(command)
            commands = kept
        self._metrics.rejected.inc(invalid)
        return commands

    # --- one group: store, publish, record ------------------------------------------------

    async def _publish(
        self, commands: Sequence[CommandRequest], keys: Sequence[str] | None = None
    ) -> list[tuple[AcceptedCommand, Outcome]]:
        """Give the commands their ids, store them as queued, publish them, record the
        outcomes; returns each accepted command with its outcome."""
        started = time.perf_counter()
        received_at = datetime.now(UTC)
        accepted = [
            AcceptedCommand(command, request_id, received_at)
            for command, request_id in zip(commands, new_request_ids(len(commands)), strict=True)
        ]
        await self._store.add_queued(accepted, keys)
        outcomes = await self.publisher.publish(accepted)
        sent: list[tuple[str, Published]] = []
        unpublished: list[tuple[str, str]] = []
        for command, outcome in zip(accepted, outcomes, strict=True):
            if isinstance(outcome, Published):
                sent.append((command.request_id, outcome))
            elif isinstance(outcome, NotPublished):
                unpublished.append((command.request_id, outcome.reason))
        await self._store.mark_sent(sent, datetime.now(UTC))
        await self._store.mark_unpublished(unpublished)
        self._metrics.published.inc(len(sent))
        self._metrics.unavailable.inc(len(accepted) - len(sent))
        if sent:
            self._metrics.publish_seconds.observe(time.perf_counter() - started)
        return list(zip(accepted, outcomes, strict=True))

    # --- late acknowledgements ------------------------------------------------------------

    def _on_late_outcome(self, command: AcceptedCommand, outcome: Published | NotPublished) -> None:
        """An unconfirmed command's fate became known after its request got a 503."""
        if isinstance(outcome, Published):
            write = self._store.mark_sent([(command.request_id, outcome)], datetime.now(UTC))
        else:
            write = self._store.mark_unpublished([(command.request_id, outcome.reason)])
        task = asyncio.ensure_future(write)
        self._background.add(task)
        task.add_done_callback(self._background.discard)


def _single_answer(accepted: AcceptedCommand, outcome: Outcome) -> Answer:
    if not isinstance(outcome, Published):
        raise BrokerUnavailable(outcome.reason, accepted.request_id)
    return _accepted(accepted.request_id, accepted.timestamp, outcome.partition, outcome.offset)


def _repeat_answer(record: CommandRecord) -> Answer:
    """The first answer again, rebuilt from the stored row."""
    if record.kafka_offset is None:
        raise BrokerUnavailable(
            "the first request with this Idempotency-Key is not yet confirmed by Kafka "
            "(broker unavailable); retry later with the same key",
            record.request_id,
        )
    return _accepted(
        record.request_id, record.queued_at, record.kafka_partition, record.kafka_offset
    )


def _accepted(
    request_id: str, timestamp: datetime, partition: int | None, offset: int | None
) -> Answer:
    """`schemas.CommandAccepted` as a dict."""
    return {
        "success": True,
        "request_id": request_id,
        "message": PUBLISHED,
        "timestamp": timestamp,
        "kafka_partition": partition,
        "kafka_offset": offset,
    }


def _batch_item(
    index: int,
    success: bool,
    accepted: AcceptedCommand,
    message: str,
    outcome: Published | None = None,
) -> Answer:
    return _batch_result(
        index,
        success,
        accepted.request_id,
        message,
        accepted.timestamp,
        outcome.partition if outcome else None,
        outcome.offset if outcome else None,
    )


def _batch_repeat(index: int, record: CommandRecord) -> Answer:
    try:
        return {"index": index, **_repeat_answer(record), "errors": None}
    except BrokerUnavailable as error:
        return _batch_result(index, False, record.request_id, error.message)


def _batch_invalid(index: int, message: str, errors: list[Any] | None = None) -> Answer:
    return _batch_result(index, False, None, message, errors=errors)


def _batch_result(
    index: int,
    success: bool,
    request_id: str | None,
    message: str,
    timestamp: datetime | None = None,
    partition: int | None = None,
    offset: int | None = None,
    errors: list[Any] | None = None,
) -> Answer:
    """`schemas.BatchItemResult` as a dict."""
    return {
        "index": index,
        "success": success,
        "request_id": request_id,
        "message": message,
        "timestamp": timestamp,
        "kafka_partition": partition,
        "kafka_offset": offset,
        "errors": errors,
    }
