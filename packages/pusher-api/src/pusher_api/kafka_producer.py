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
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from pusher_api.messages import DeviceCommand
from pusher_api.settings import Settings

log = structlog.get_logger(__name__)

_HEALTH_CHECK_INTERVAL_S = 2.0


@dataclass(frozen=True, slots=True)
class Published:
    """The broker acknowledged the record."""

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


Outcome = Published | NotPublished | Unconfirmed
LateOutcome = Callable[[DeviceCommand, Published | NotPublished], None]
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
                log.warning("kafka producer stopped with records undelivered", error=str(error))
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
            self._producer = producer
            self._record_success()
            log.info("kafka producer connected", servers=self._settings.kafka_bootstrap_servers)
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
            log.warning("kafka unavailable", error=message)
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

    async def publish(self, commands: Sequence[DeviceCommand]) -> list[Outcome]:
        """Send all commands at once, then wait for all acknowledgements until the deadline."""
        outcomes: list[Outcome | None] = [None] * len(commands)
        producer = self._producer
        if producer is None:
            reason = f"not connected to Kafka at {self._settings.kafka_bootstrap_servers} yet"
            if self.last_error:
                reason += f" ({self.last_error})"
            return [NotPublished(reason)] * len(commands)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout_s
        topic = self._settings.kafka_command_topic
        queued: dict[asyncio.Future[Any], int] = {}
        index = 0
        try:
            async with asyncio.timeout_at(deadline):
                for index, command in enumerate(commands):
                    try:
                        future = await producer.send(
                            topic,
                            command.kafka_value(),
                            key=command.kafka_key(),
                            headers=command.kafka_headers(),
                        )
                    except KafkaError as error:
                        outcomes[index] = NotPublished(f"Kafka refused the command: {error!r}")
                    else:
                        queued[future] = index
                index = len(commands)
        except TimeoutError:
            for late in range(index, len(commands)):
                outcomes[late] = NotPublished(self._unavailable)
        if queued:
            await asyncio.wait(queued, timeout=max(0.0, deadline - loop.time()))
        for future, position in queued.items():
            if not future.done():
                outcomes[position] = Unconfirmed(
                    self._unavailable + ": it waits in the producer and may still be published"
                )
                future.add_done_callback(self._late_outcome_callback(commands[position]))
            elif future.exception() is not None:
                outcomes[position] = NotPublished(
                    f"Kafka refused the command: {future.exception()!r}"
                )
            else:
                metadata = future.result()
                outcomes[position] = Published(metadata.partition, metadata.offset)
        result = [
            outcome if outcome is not None else NotPublished("not sent") for outcome in outcomes
        ]
        if any(isinstance(outcome, Published) for outcome in result):
            self._record_success()
        elif result:
            self._record_failure(self._unavailable)
        return result

    def _late_outcome_callback(
        self, command: DeviceCommand
    ) -> Callable[[asyncio.Future[Any]], None]:
        def report(future: asyncio.Future[Any]) -> None:
            if future.cancelled():
                self._on_late_outcome(command, NotPublished("producer stopped"))
            elif future.exception() is not None:
                self._on_late_outcome(command, NotPublished(repr(future.exception())))
            else:
                metadata = future.result()
                self._on_late_outcome(command, Published(metadata.partition, metadata.offset))

        return report
