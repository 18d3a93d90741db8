"""Publishing command records to Kafka with a bounded wait, and knowing whether Kafka is there.

The producer is aiokafka's with `acks="all"` and idempotence, so a record the broker acknowledged
is durable and retries never duplicate it. Every publish has one deadline (`KAFKA_TIMEOUT_MS`):
the API answers 503 by then instead of hanging while the broker is away.

Each command ends in one of three outcomes, because "not acknowledged in time" is not "not sent":
- `Published`: the broker acknowledged it (partition, offset);
- `NotPublished`: it certainly never left the service (the producer refused it or it timed out
  before entering the producer's queue), so a retry cannot duplicate it;
- `Unconfirmed`: it is queued in the idempotent producer, which keeps retrying until the broker
  is back; it may still be written. The caller gets a callback when that becomes known.

The producer connects in the background and reconnects on its own; the service starts and
answers (503 for commands) while Kafka is away and recovers without a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.partitioner import DefaultPartitioner

from pusher_api.messages import CommandCancellation
from pusher_api.settings import Settings

log = structlog.get_logger(__name__)

_HEALTH_CHECK_INTERVAL_S = 2.0
_PARTITION_CACHE_SIZE = 100_000


class Published(NamedTuple):
    """The broker acknowledged the record (a named tuple: one is made per command)."""

    partition: int
    offset: int


@dataclass(frozen=True, slots=True)
class NotPublished:
    """The record never left the service."""

    reason: str


@dataclass(frozen=True, slots=True)
class Unconfirmed:
    """The record waits in the producer; it may still be written when the broker returns."""

    reason: str


class Publishable(Protocol):
    """A command record to publish: a new command (`messages.AcceptedCommand`) or a scheduled
    one that came due (`store.ScheduledRecord`)."""

    @property
    def request_id(self) -> str: ...

    def kafka_key(self) -> bytes: ...

    def kafka_value(self) -> bytes: ...

    def kafka_headers(self) -> list[tuple[str, bytes]]: ...


Outcome = Published | NotPublished | Unconfirmed
LateOutcome = Callable[[Any, Published | NotPublished], None]
"""Called for an `Unconfirmed` command once the producer knows what became of it."""


class CommandPublisher:
    """Owns the aiokafka producer: connects, publishes with a deadline, tracks broker health."""

    def __init__(self, settings: Settings, on_late_outcome: LateOutcome):
        self._settings = settings
        self._on_late_outcome = on_late_outcome
        self._timeout_s = settings.kafka_timeout_ms / 1000
        self._producer: AIOKafkaProducer | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self.connected = False
        self.last_error: str | None = None
        self._partitioner = DefaultPartitioner()
        self._partition_ids: list[int] = []
        self._partition_of: dict[bytes, int] = {}
        self._partition_locks: dict[int, asyncio.Lock] = {}

    async def start(self) -> None:
        """Start connecting in the background; returns at once."""
        self._supervisor = asyncio.create_task(self._supervise(), name="kafka-producer")

    async def stop(self) -> None:
        """Stop the producer, giving queued records up to `KAFKA_TIMEOUT_MS` to be delivered."""
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        if self._producer is not None:
            try:
                await asyncio.wait_for(self._producer.stop(), self._timeout_s)
            except (TimeoutError, KafkaError) as error:
                log.warning("kafka.producer_stopped_undelivered", error=str(error))
            self._producer = None
        self.connected = False

    def _new_producer(self) -> AIOKafkaProducer:
        return AIOKafkaProducer(
            bootstrap_servers=self._settings.kafka_bootstrap_servers,
            client_id="pusher-api",
            acks="all",
            enable_idempotence=True,
            request_timeout_ms=self._settings.kafka_timeout_ms,
            max_batch_size=512 * 1024,
        )

    async def _supervise(self) -> None:
        """Connect (retrying with backoff), then keep `connected` true to the broker's state."""
        backoff = 0.2
        while self._producer is None:
            producer = self._new_producer()
            try:
                await producer.start()
            except KafkaError as error:
                await producer.stop()
                self._record_failure(f"cannot connect to Kafka: {error}")
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            except BaseException:  # stopped while connecting: close what start() opened
                await producer.stop()
                raise
            self._producer = producer
            self._record_success()
            log.info("kafka.producer_connected", servers=self._settings.kafka_bootstrap_servers)
        while True:
            await asyncio.sleep(_HEALTH_CHECK_INTERVAL_S)
            try:
                await asyncio.wait_for(self._producer.client.fetch_all_metadata(), self._timeout_s)
            except (TimeoutError, KafkaError) as error:
                self._record_failure(f"Kafka metadata request failed: {error!r}")
            else:
                self._record_success()

    def _record_failure(self, message: str) -> None:
        if self.connected or self.last_error != message:
            log.warning("kafka.unavailable", error=message)
        self.connected = False
        self.last_error = message

    def _record_success(self) -> None:
        if not self.connected:
            self.connected = True

    @property
    def _unavailable(self) -> str:
        return (
            f"Kafka at {self._settings.kafka_bootstrap_servers} did not acknowledge the command "
            f"within KAFKA_TIMEOUT_MS={self._settings.kafka_timeout_ms}"
        )

    async def publish_cancellation(self, cancellation: CommandCancellation) -> str | None:
        """Write a cancellation record and wait for the broker's acknowledgement; returns None
        when it is on the topic, else why not."""
        producer = self._producer
        if producer is None:
            return f"not connected to Kafka at {self._settings.kafka_bootstrap_servers}"
        try:
            async with asyncio.timeout(self._timeout_s):
                future = await producer.send(
                    self._settings.kafka_cancel_topic,
                    cancellation.kafka_value(),
                    key=cancellation.kafka_key(),
                )
                await future
        except (TimeoutError, KafkaError) as error:
            return f"{self._unavailable} ({error!r})"
        return None

    async def publish(self, commands: Sequence[Publishable]) -> list[Outcome]:
        """Send all commands at once, then wait for all acknowledgements until the deadline.

        One command goes through `send`; several (a batch, or the single commands the dispatcher
        grouped) go as one record batch per partition (`send_batch`): the same partitions as
        `send` would pick (the default murmur2 partitioner on the key) and, within a partition,
        the given order.
        """
        producer = self._producer
        if producer is None:
            reason = f"not connected to Kafka at {self._settings.kafka_bootstrap_servers} yet"
            if self.last_error:
                reason += f" ({self.last_error})"
            return [NotPublished(reason)] * len(commands)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout_s
        outcomes: list[Outcome | None] = [None] * len(commands)
        # each future with the commands it carries: (position, offset relative to the future's)
        queued: dict[asyncio.Future[Any], list[tuple[int, int]]] = {}
        try:
            async with asyncio.timeout_at(deadline):
                if len(commands) == 1:
                    await self._send_one(producer, commands[0], outcomes, queued)
                else:
                    await self._send_batches(producer, commands, outcomes, queued)
        except TimeoutError:
            pass
        if queued:
            await asyncio.wait(queued, timeout=max(0.0, deadline - loop.time()))
        for future, members in queued.items():
            if not future.done():
                reason = self._unavailable + ": it waits in the producer and may still be published"
                for position, relative in members:
                    outcomes[position] = Unconfirmed(reason)
                    future.add_done_callback(
                        self._late_outcome_callback(commands[position], relative)
                    )
            elif future.exception() is not None:
                refused = NotPublished(f"Kafka refused the command: {future.exception()!r}")
                for position, _ in members:
                    outcomes[position] = refused
            else:
                metadata = future.result()
                for position, relative in members:
                    outcomes[position] = Published(metadata.partition, metadata.offset + relative)
        not_sent = NotPublished(self._unavailable)
        result = [outcome if outcome is not None else not_sent for outcome in outcomes]
        if any(isinstance(outcome, Published) for outcome in result):
            self._record_success()
        elif result:
            self._record_failure(self._unavailable)
        return result

    async def partitions(self) -> list[int]:
        """The command topic's partitions in id order (raises `KafkaError` when not
        connected)."""
        if self._producer is None:
            raise KafkaError("not connected to Kafka")
        return await self._partitions(self._producer)

    async def _partitions(self, producer: AIOKafkaProducer) -> list[int]:
        """The command topic's partitions in id order (as the producer's partitioner sees them);
        the key → partition cache is dropped when they change."""
        partitions = sorted(await producer.partitions_for(self._settings.kafka_command_topic))
        if partitions != self._partition_ids:
            self._partition_ids = partitions
            self._partition_of.clear()
        return partitions

    def _partition(self, key: bytes, partitions: list[int]) -> int:
        partition = self._partition_of.get(key)
        if partition is None:
            if len(self._partition_of) >= _PARTITION_CACHE_SIZE:
                self._partition_of.clear()
            partition = self._partitioner(key, partitions, partitions)
            self._partition_of[key] = partition
        return partition

    async def _send_one(
        self,
        producer: AIOKafkaProducer,
        command: Publishable,
        outcomes: list[Outcome | None],
        queued: dict[asyncio.Future[Any], list[tuple[int, int]]],
    ) -> None:
        try:
            future = await producer.send(
                self._settings.kafka_command_topic,
                command.kafka_value(),
                key=command.kafka_key(),
                headers=command.kafka_headers(),
            )
        except KafkaError as error:
            outcomes[0] = NotPublished(f"Kafka refused the command: {error!r}")
        else:
            queued[future] = [(0, 0)]

    async def _send_batches(
        self,
        producer: AIOKafkaProducer,
        commands: Sequence[Publishable],
        outcomes: list[Outcome | None],
        queued: dict[asyncio.Future[Any], list[tuple[int, int]]],
    ) -> None:
        """One record batch per partition (more when one fills up), built here and handed to
        the producer whole: no per-record future, no per-record trip through the accumulator."""
        topic = self._settings.kafka_command_topic
        partitions = await self._partitions(producer)
        by_partition: dict[int, list[tuple[int, Publishable, bytes]]] = {}
        for position, command in enumerate(commands):
            key = command.kafka_key()
            by_partition.setdefault(self._partition(key, partitions), []).append(
                (position, command, key)
            )
        for partition, members in by_partition.items():
            batch = producer.create_batch()
            carried: list[tuple[int, int]] = []
            for position, command, key in members:
                value, headers = command.kafka_value(), command.kafka_headers()
                appended = batch.append(timestamp=None, key=key, value=value, headers=headers)
                if appended is None and carried:  # full: send it, start the next one
                    await self._submit(producer, batch, topic, partition, carried, outcomes, queued)
                    batch, carried = producer.create_batch(), []
                    appended = batch.append(timestamp=None, key=key, value=value, headers=headers)
                if appended is None:
                    outcomes[position] = NotPublished(
                        "Kafka refused the command: larger than the producer's batch size"
                    )
                else:
                    carried.append((position, appended.offset))
            if carried:
                await self._submit(producer, batch, topic, partition, carried, outcomes, queued)

    async def _submit(
        self,
        producer: AIOKafkaProducer,
        batch: Any,
        topic: str,
        partition: int,
        carried: list[tuple[int, int]],
        outcomes: list[Outcome | None],
        queued: dict[asyncio.Future[Any], list[tuple[int, int]]],
    ) -> None:
        # One submitter per partition at a time: aiokafka's `send_batch` waits for the queued
        # batch of the partition to drain, and with several waiters its deadline shrinks by the
        # total time waited after every wake-up (KafkaTimeoutError long before the timeout).
        lock = self._partition_locks.get(partition)
        if lock is None:
            lock = self._partition_locks[partition] = asyncio.Lock()
        try:
            async with lock:
                future = await producer.send_batch(batch, topic, partition=partition)
        except KafkaError as error:
            refused = NotPublished(f"Kafka refused the command: {error!r}")
            for position, _ in carried:
                outcomes[position] = refused
        else:
            queued[future] = carried

    def _late_outcome_callback(
        self, command: Publishable, relative: int
    ) -> Callable[[asyncio.Future[Any]], None]:
        def report(future: asyncio.Future[Any]) -> None:
            if future.cancelled():
                self._on_late_outcome(command, NotPublished("producer stopped"))
            elif future.exception() is not None:
                self._on_late_outcome(command, NotPublished(repr(future.exception())))
            else:
                metadata = future.result()
                self._on_late_outcome(
                    command, Published(metadata.partition, metadata.offset + relative)
                )

        return report
