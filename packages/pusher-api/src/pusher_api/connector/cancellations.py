"""What every connector consults before it delivers a command: the cancellation records.

The rule that makes a cancel safe, for any protocol (documented in docs/pusher-connector.md):

1. A connector reads `KAFKA_CANCEL_TOPIC` in full (every partition, no consumer group) and keeps
   the set of cancelled request ids (`CancellationView`).
2. Before it delivers commands it has just read from the command topic, it calls `catch_up()`:
   that reads the cancel topic up to the end offsets of *this moment*. A cancellation the
   service saw acknowledged before then is now known, so `is_cancelled` is true for it, and the
   connector reports `cancelled` instead of delivering.
3. A connector that holds commands for a while (a CoAP device checks in when it likes) also
   drops a held command when its cancellation arrives (`on_cancel`) and reports `cancelled`.

The connector is then the one that decides between "delivered" and "cancelled" for a command it
has, and says which on the status topic; the service answers the cancel from that report. A
cancellation that comes after the delivery loses, and the service answers 409 `delivered`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from pusher_api.messages import CommandCancellation

log = structlog.get_logger(__name__)

OnCancel = Callable[[CommandCancellation], Awaitable[None]]

_ASSIGNMENT_WAIT_S = 30.0


class CancellationView:
    """The cancelled request ids, read from the cancel topic and kept current in the background.

    Use as `async with CancellationView(servers, topic) as view:`; `start()` returns once every
    cancellation already on the topic is known.
    """

    def __init__(
        self, bootstrap_servers: str, topic: str, on_cancel: OnCancel | None = None
    ) -> None:
        self._bootstrap_servers = bootstrap_servers
        self._topic = topic
        self._on_cancel = on_cancel
        self._cancelled: set[str] = set()
        self._positions: dict[TopicPartition, int] = {}
        self._progress = asyncio.Condition()
        self._consumer: AIOKafkaConsumer | None = None
        # End offsets are asked on a connection of their own: on the reader's, the request
        # waits behind the fetch in flight (a long poll, 0.5 s when nothing new comes).
        self._offsets: AIOKafkaConsumer | None = None
        self._reader: asyncio.Task[None] | None = None

    async def __aenter__(self) -> CancellationView:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def is_cancelled(self, request_id: str) -> bool:
        """Whether a cancellation of `request_id` has been read."""
        return request_id in self._cancelled

    async def start(self) -> None:
        """Connect, read the whole topic, then keep reading in the background."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap_servers,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        await consumer.start()
        self._consumer = consumer
        offsets = AIOKafkaConsumer(bootstrap_servers=self._bootstrap_servers)
        await offsets.start()
        self._offsets = offsets
        consumer.subscribe([self._topic])  # no group: every partition, from the beginning
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _ASSIGNMENT_WAIT_S
        while not consumer.assignment():
            if loop.time() > deadline:
                raise KafkaError(f"cancel topic {self._topic!r} has no partitions")
            await asyncio.sleep(0.05)
        await consumer.seek_to_beginning(*consumer.assignment())
        self._reader = asyncio.create_task(self._read_forever(), name="cancellations")
        await self.catch_up()

    async def stop(self) -> None:
        """Stop reading."""
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, KafkaError):
                await self._reader
        for client in (self._consumer, self._offsets):
            if client is not None:
                with contextlib.suppress(KafkaError):
                    await client.stop()

    async def catch_up(self, timeout_s: float = 10.0) -> None:
        """Return once every cancellation on the topic at this moment has been read.

        Raises `KafkaError` when the topic cannot be read that far in `timeout_s` (the caller
        then must not deliver: it reconnects and tries again).
        """
        consumer, offsets = self._consumer, self._offsets
        if consumer is None or offsets is None:
            raise KafkaError("the cancellation view is not started")
        partitions = list(consumer.assignment())
        ends = await offsets.end_offsets(partitions)

        def caught_up() -> bool:
            return all(self._positions.get(tp, -1) >= end for tp, end in ends.items())

        async with self._progress:
            try:
                await asyncio.wait_for(self._progress.wait_for(caught_up), timeout_s)
            except TimeoutError:
                raise KafkaError(
                    f"cancel topic {self._topic!r} not read to its end in {timeout_s} s"
                ) from None

    async def _read_forever(self) -> None:
        consumer = self._consumer
        assert consumer is not None
        while True:
            batches = await consumer.getmany(timeout_ms=200, max_records=1000)
            for records in batches.values():
                for record in records:
                    await self._apply(record.value or b"", record.partition, record.offset)
            positions = {tp: await consumer.position(tp) for tp in consumer.assignment()}
            async with self._progress:
                self._positions = positions
                self._progress.notify_all()

    async def _apply(self, value: bytes, partition: int, offset: int) -> None:
        try:
            cancellation = CommandCancellation.from_kafka(value)
        except ValidationError as error:
            log.warning(
                "connector.malformed_cancellation_skipped",
                partition=partition,
                offset=offset,
                error=str(error).splitlines()[0],
            )
            return
        if cancellation.request_id in self._cancelled:
            return
        self._cancelled.add(cancellation.request_id)
        if self._on_cancel is not None:
            await self._on_cancel(cancellation)
