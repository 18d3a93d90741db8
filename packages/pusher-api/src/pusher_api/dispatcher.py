"""From an accepted HTTP request to a command on Kafka with its row in the status store.

Order matters: the rows are written as `queued` before the records go to Kafka, so a connector's
report can never arrive for a command the store does not know; after the broker's acknowledgement
the rows become `sent` with their partition and offset. A command with `not_before` in the future
is only stored (`scheduled`, with its record value); the `Scheduler` publishes it when due.

Commands travel in groups: a batch is one group, and single commands that arrive together are
coalesced into one (`Coalescer`), so each group costs one insert, one record batch per Kafka
partition and one update, however many commands it holds.

A command Kafka acknowledged is answered 202 even when recording `sent` fails: the write is
retried in the background (`_unrecorded` keeps the acknowledgement meanwhile, so a repeat is
answered from it), and `Repairer` finds on the topic what a stopped replica never recorded.

Idempotency: the first request with an `Idempotency-Key` (scoped to the caller) owns it; repeats,
also concurrent ones and ones sent to another replica, get the first answer and write nothing;
a repeat whose body differs is refused (409, naming the first request). A command that certainly
never reached Kafka frees its key so the retry publishes; one that is unconfirmed (held by the
producer during an outage) keeps it until its fate is known.

Answers are JSON-ready dicts shaped as `schemas.CommandAccepted` and `schemas.BatchAccepted`
(which document them in the OpenAPI schema): the routes write them with orjson, skipping a
second validation of what this module just built.
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import time
from collections.abc import Coroutine, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import orjson
import structlog
from aiokafka.errors import KafkaError
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.exc import SQLAlchemyError

from pusher_api.coalescer import Coalescer
from pusher_api.errors import (
    BrokerUnavailableError,
    DuplicateIdempotencyKeyError,
    IdempotencyConflictError,
)
from pusher_api.kafka_producer import CommandPublisher, NotPublished, Outcome, Published
from pusher_api.messages import (
    AcceptedCommand,
    CommandRequest,
    CommandStatus,
    new_request_ids,
    validation_errors,
)
from pusher_api.metrics import Metrics
from pusher_api.settings import Settings
from pusher_api.store import (
    CommandRecord,
    CommandStore,
    ScheduledRecord,
)

log = structlog.get_logger(__name__)

PUBLISHED = "Command published to Kafka"
SCHEDULED = "Command scheduled: it is published to Kafka at not_before"

T = TypeVar("T")
Answer = dict[str, Any]
Item = tuple[CommandRequest, str | None]
"""A command with the request's traceparent."""

_COMMANDS = TypeAdapter(list[CommandRequest])
_RECORD_RETRY_DELAYS_S = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0)


def fingerprint(body: Any) -> str:
    """What identifies a request body for idempotency: the SHA-256 of its JSON with sorted
    keys (so key order and spacing do not matter)."""
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


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
        self.unrecorded: dict[str, tuple[Published, str]] = {}
        """Acknowledgements whose `sent` write failed and is being retried: request id →
        (acknowledgement, device id)."""
        self._recorder: asyncio.Task[None] | None = None
        self.max_batch_size = settings.max_batch_size
        self.schedule_changed = asyncio.Event()
        """Set when a command was scheduled: the scheduler looks again for the next due one."""

    # --- single command -----------------------------------------------------------------

    async def submit(
        self,
        command: CommandRequest,
        idempotency_key: str | None,
        traceparent: str | None = None,
        body_fingerprint: str | None = None,
    ) -> Answer:
        """Publish (or schedule) one command, or return the first answer for a repeated
        idempotency key."""
        if idempotency_key is None:
            if command.not_before is not None and not command.due(datetime.now(UTC)):
                [answer] = await self._schedule([(command, traceparent)], None, None)
                return answer
            accepted, outcome = await self._singles.submit((command, traceparent))
            return _single_answer(accepted, outcome)
        return await self._once_per_key(
            idempotency_key,
            self._first_or_publish(command, idempotency_key, traceparent, body_fingerprint),
        )

    async def _first_or_publish(
        self, command: CommandRequest, key: str, traceparent: str | None, print_: str | None
    ) -> Answer:
        record = await self._store.get_by_idempotency_key(key)
        if record is None:
            try:
                if command.not_before is not None and not command.due(datetime.now(UTC)):
                    [answer] = await self._schedule([(command, traceparent)], [key], [print_])
                    return answer
                [(accepted, outcome)] = await self._publish(
                    [(command, traceparent)], [key], [print_]
                )
            except DuplicateIdempotencyKeyError:  # another replica took it after the lookup
                record = await self._store.get_by_idempotency_key(key)
                if record is None:
                    raise
            else:
                return _single_answer(accepted, outcome)
        self._metrics.duplicate.inc()
        if print_ is not None and record.idempotency_fingerprint not in (None, print_):
            raise IdempotencyConflictError(record.request_id)
        return await self._repeat_answer(record)

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

    async def _repeat_answer(self, record: CommandRecord) -> Answer:
        """The first answer again (see `_repeat_answers`); 503 while it is not known."""
        [answer] = await self._repeat_answers([record])
        if isinstance(answer, BrokerUnavailableError):
            raise answer
        return answer

    async def _repeat_answers(
        self, records: Sequence[CommandRecord]
    ) -> list[Answer | BrokerUnavailableError]:
        """The first answers again, rebuilt from the stored rows; for a command whose outcome
        is not recorded, from an acknowledgement this replica still holds, from the row once
        the replica publishing it right now records it (waited for up to KAFKA_TIMEOUT_MS), or
        from the topic. What is nowhere yet is a `BrokerUnavailableError` (503): retry later."""
        answers: list[Answer | BrokerUnavailableError | None] = [None] * len(records)
        open_: dict[int, CommandRecord] = {}
        for position, record in enumerate(records):
            answer = self._known_answer(record)
            if answer is None:
                open_[position] = record
            answers[position] = answer
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._settings.kafka_timeout_ms / 1000
        while open_ and any(_young(r, self._settings) for r in open_.values()):
            if loop.time() >= deadline:
                break
            await asyncio.sleep(0.05)
            fresh = await self._store.get_many([r.request_id for r in open_.values()])
            for position, record in list(open_.items()):
                current = fresh.get(record.request_id, record)
                answer = self._known_answer(current)
                if answer is not None or current.status is not CommandStatus.queued:
                    answers[position] = answer
                    del open_[position]
                else:
                    open_[position] = current
        if open_ and self.repairer is not None:
            try:
                found = await self.repairer.look_up(list(open_.values()))
            except KafkaError as error:
                log.warning("dispatcher.topic_lookup_failed", error=repr(error))
                found = {}
            on_topic = [
                (r.request_id, found[r.request_id]) for r in open_.values() if r.request_id in found
            ]
            await self._record_sent(
                on_topic, [r.device_id for r in open_.values() if r.request_id in found]
            )
            for position, record in list(open_.items()):
                published = found.get(record.request_id)
                if published is not None:
                    answers[position] = _accepted(
                        record.request_id, record.queued_at, published.partition, published.offset
                    )
                    del open_[position]
        for position, record in open_.items():
            answers[position] = BrokerUnavailableError(
                "the first request with this Idempotency-Key is not yet confirmed by Kafka "
                "(broker unavailable); retry later with the same key",
                record.request_id,
            )
        return [a if a is not None else _unknown(r) for a, r in zip(answers, records, strict=True)]

    def _known_answer(self, record: CommandRecord) -> Answer | None:
        if record.not_before is not None and record.not_before > record.queued_at:
            return _scheduled(record.request_id, record.queued_at)  # it was not due then
        if record.kafka_offset is not None:
            return _accepted(
                record.request_id, record.queued_at, record.kafka_partition, record.kafka_offset
            )
        held = self.unrecorded.get(record.request_id)
        if held is not None:
            return _accepted(record.request_id, record.queued_at, held[0].partition, held[0].offset)
        return None

    repairer: Any = None
    """The `Repairer` that looks a command up on the topic (set by the app)."""

    # --- batches ------------------------------------------------------------------------

    async def submit_batch(
        self,
        items: list[Any],
        idempotency_key: str | None,
        body_bytes: int,
        traceparent: str | None = None,
    ) -> Answer:
        """Validate each command on its own, publish the valid ones together, report each.

        `body_bytes` is the request body's size: when it is within `MAX_COMMAND_BYTES` no item
        can be over it, and the per-item size check is skipped.
        """
        if idempotency_key is None:
            return await self._publish_batch(items, None, body_bytes, traceparent)
        return await self._once_per_key(
            idempotency_key, self._keyed_batch(items, idempotency_key, body_bytes, traceparent)
        )

    async def _keyed_batch(
        self, items: list[Any], key: str, body_bytes: int, traceparent: str | None
    ) -> Answer:
        for _ in range(3):
            try:
                return await self._publish_batch(items, key, body_bytes, traceparent)
            except DuplicateIdempotencyKeyError:  # another replica took some keys meanwhile: again
                continue
        return await self._publish_batch(items, key, body_bytes, traceparent)

    async def _publish_batch(
        self, items: list[Any], key: str | None, body_bytes: int, traceparent: str | None
    ) -> Answer:
        results: list[Answer | None] = [None] * len(items)
        positions = list(range(len(items)))
        prints: list[str | None] = [None] * len(items)
        if key:
            item_keys = [f"{key}#{index}" for index in positions]
            prints = [fingerprint(item) for item in items]
            earlier = await self._store.get_by_idempotency_keys(item_keys)
            conflicts = [
                record.request_id
                for item_key, record in earlier.items()
                if record.idempotency_fingerprint
                not in (None, prints[int(item_key.rsplit("#", 1)[1])])
            ]
            if conflicts:
                raise IdempotencyConflictError(conflicts[0])
            repeated = [i for i, item_key in enumerate(item_keys) if item_key in earlier]
            self._metrics.duplicate.inc(len(repeated))
            again = await self._repeat_answers([earlier[item_keys[i]] for i in repeated])
            for index, answer in zip(repeated, again, strict=True):
                results[index] = (
                    _batch_result(index, False, answer.request_id, answer.message)
                    if isinstance(answer, BrokerUnavailableError)
                    else {"index": index, **answer, "errors": None}
                )
            positions = [index for index in positions if results[index] is None]
        commands = self._validate_batch(items, positions, results, body_bytes)
        positions = [index for index in positions if results[index] is None]

        now = datetime.now(UTC)
        due_at = [i for i, c in zip(positions, commands, strict=True) if c.due(now)]
        later_at = [i for i, c in zip(positions, commands, strict=True) if not c.due(now)]
        by_position = dict(zip(positions, commands, strict=True))
        published = 0
        if later_at:
            answers = await self._schedule(
                [(by_position[i], traceparent) for i in later_at],
                [f"{key}#{i}" for i in later_at] if key else None,
                [prints[i] for i in later_at] if key else None,
            )
            for index, answer in zip(later_at, answers, strict=True):
                published += 1
                results[index] = {"index": index, **answer, "errors": None}
        if due_at:
            outcomes = await self._publish(
                [(by_position[i], traceparent) for i in due_at],
                [f"{key}#{i}" for i in due_at] if key else None,
                [prints[i] for i in due_at] if key else None,
            )
            for index, (accepted, outcome) in zip(due_at, outcomes, strict=True):
                if isinstance(outcome, Published):
                    published += 1
                    results[index] = _batch_item(index, True, accepted, PUBLISHED, outcome)
                else:
                    results[index] = _batch_item(index, False, accepted, outcome.reason)
        if commands and not published:
            message = next(r["message"] for r in results if r and r["request_id"])
            raise BrokerUnavailableError(message)
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

    async def _schedule(
        self,
        items: Sequence[Item],
        keys: Sequence[str] | None,
        prints: Sequence[str | None] | None,
    ) -> list[Answer]:
        """Store commands that are not due yet as scheduled; the scheduler publishes them."""
        received_at = datetime.now(UTC)
        accepted = [
            AcceptedCommand(command, request_id, received_at, traceparent)
            for (command, traceparent), request_id in zip(
                items, new_request_ids(len(items)), strict=True
            )
        ]
        await self._store.add_queued(
            accepted, keys, prints, scheduled=True, webhook_url=self._settings.webhook_url
        )
        self.schedule_changed.set()
        return [_scheduled(command.request_id, received_at) for command in accepted]

    async def _publish(
        self,
        items: Sequence[Item],
        keys: Sequence[str] | None = None,
        prints: Sequence[str | None] | None = None,
    ) -> list[tuple[AcceptedCommand, Outcome]]:
        """Give the commands their ids, store them as queued, publish them, record the
        outcomes; returns each accepted command with its outcome."""
        started = time.perf_counter()
        received_at = datetime.now(UTC)
        accepted = [
            AcceptedCommand(command, request_id, received_at, traceparent)
            for (command, traceparent), request_id in zip(
                items, new_request_ids(len(items)), strict=True
            )
        ]
        await self._store.add_queued(accepted, keys, prints, webhook_url=self._settings.webhook_url)
        outcomes = await self.publisher.publish(accepted)
        sent: list[tuple[str, Published]] = []
        devices: list[str] = []
        unpublished: list[tuple[str, str]] = []
        for command, outcome in zip(accepted, outcomes, strict=True):
            if isinstance(outcome, Published):
                sent.append((command.request_id, outcome))
                devices.append(command.command.device_id)
            elif isinstance(outcome, NotPublished):
                unpublished.append((command.request_id, outcome.reason))
        await self._record_sent(sent, devices)
        await self._store.mark_unpublished(unpublished)
        self._metrics.published.inc(len(sent))
        self._metrics.unavailable.inc(len(accepted) - len(sent))
        if sent:
            self._metrics.publish_seconds.observe(time.perf_counter() - started)
        return list(zip(accepted, outcomes, strict=True))

    async def publish_due(self, claimed: Sequence[ScheduledRecord]) -> int:
        """Publish scheduled commands the scheduler claimed; those Kafka refused go back to the
        schedule. Returns how many were published."""
        outcomes = await self.publisher.publish(claimed)
        sent = [
            (c.request_id, o)
            for c, o in zip(claimed, outcomes, strict=True)
            if isinstance(o, Published)
        ]
        devices = [
            c.device_id for c, o in zip(claimed, outcomes, strict=True) if isinstance(o, Published)
        ]
        refused = [
            c.request_id
            for c, o in zip(claimed, outcomes, strict=True)
            if isinstance(o, NotPublished)
        ]
        await self._record_sent(sent, devices)
        await self._store.return_to_schedule(refused)
        self._metrics.published.inc(len(sent))
        return len(sent)

    async def _record_sent(self, sent: list[tuple[str, Published]], devices: list[str]) -> None:
        """Record acknowledgements; when the store fails, keep them and retry in the background
        (the command is on Kafka: its answer is 202 whatever the store does)."""
        if not sent:
            return
        try:
            await self._store.mark_sent(sent, datetime.now(UTC), devices)
        except (SQLAlchemyError, OSError, sqlite3.Error) as error:
            log.warning(
                "dispatcher.acknowledgements_unrecorded",
                commands=len(sent),
                error=repr(error),
            )
            for (request_id, ack), device in zip(sent, devices, strict=True):
                self.unrecorded[request_id] = (ack, device)
            if self._recorder is None or self._recorder.done():
                self._recorder = asyncio.create_task(self._record_unrecorded(), name="recorder")

    async def _record_unrecorded(self) -> None:
        attempt = 0
        while self.unrecorded:
            delay = _RECORD_RETRY_DELAYS_S[min(attempt, len(_RECORD_RETRY_DELAYS_S) - 1)]
            await asyncio.sleep(delay)
            attempt += 1
            pending = dict(self.unrecorded)
            try:
                await self._store.mark_sent(
                    [(request_id, ack) for request_id, (ack, _) in pending.items()],
                    datetime.now(UTC),
                    [device for _, device in pending.values()],
                )
            except (SQLAlchemyError, OSError, sqlite3.Error) as error:
                log.warning("dispatcher.acknowledgements_unrecorded_again", error=repr(error))
                continue
            for request_id in pending:
                self.unrecorded.pop(request_id, None)
            log.info("dispatcher.acknowledgements_recorded", commands=len(pending))

    # --- late acknowledgements ------------------------------------------------------------

    def _on_late_outcome(self, command: Any, outcome: Published | NotPublished) -> None:
        """An unconfirmed command's fate became known after its request got a 503."""
        write: Coroutine[Any, Any, None]
        if isinstance(outcome, Published):
            device = (
                command.device_id
                if isinstance(command, ScheduledRecord)
                else command.command.device_id
            )
            write = self._record_sent([(command.request_id, outcome)], [device])
        elif isinstance(command, ScheduledRecord):
            write = self._store.return_to_schedule([command.request_id])
        else:
            write = self._store.mark_unpublished([(command.request_id, outcome.reason)])
        task = asyncio.ensure_future(write)
        self._background.add(task)
        task.add_done_callback(self._background.discard)


def _young(record: CommandRecord, settings: Settings) -> bool:
    """Whether a queued command may still be in a live replica's publish (so its outcome is
    about to be recorded)."""
    age = (datetime.now(UTC) - record.queued_at).total_seconds()
    return age < settings.kafka_timeout_ms / 1000


def _unknown(record: CommandRecord) -> BrokerUnavailableError:
    """A command that failed without reaching Kafka: the key was freed, a retry publishes."""
    return BrokerUnavailableError(
        f"the first request with this Idempotency-Key was not published ({record.status.value}"
        f": {record.detail}); retry with the same key",
        record.request_id,
    )


def _single_answer(accepted: AcceptedCommand, outcome: Outcome) -> Answer:
    if not isinstance(outcome, Published):
        raise BrokerUnavailableError(outcome.reason, accepted.request_id)
    return _accepted(accepted.request_id, accepted.timestamp, outcome.partition, outcome.offset)


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
        "status": "sent",
    }


def _scheduled(request_id: str, timestamp: datetime) -> Answer:
    """`schemas.CommandAccepted` of a scheduled command, as a dict."""
    return {
        "success": True,
        "request_id": request_id,
        "message": SCHEDULED,
        "timestamp": timestamp,
        "kafka_partition": None,
        "kafka_offset": None,
        "status": "scheduled",
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
        "status": "sent" if success else None,
        "errors": errors,
    }
