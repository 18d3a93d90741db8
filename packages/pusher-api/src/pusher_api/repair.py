"""Finding on the command topic what was published but never recorded as `sent`.

A command stays `queued` in the store when its acknowledgement was never written: the write
failed and the replica stopped before its retries succeeded, or the replica stopped while the
producer still held the record. The record itself is on the topic or not; `Repairer` looks.
Every `REPAIR_AFTER_S` / 4 it takes the commands queued for longer than `REPAIR_AFTER_S` (no
live producer holds a record that long), reads their partitions from a little before they were
queued, and records what it finds as `sent`; what is not there failed (its idempotency key is
freed, so a retry publishes it) or, when it came from the schedule, is scheduled again. The
dispatcher also asks it on demand, to answer a repeated Idempotency-Key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import structlog
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.partitioner import DefaultPartitioner
from sqlalchemy.exc import SQLAlchemyError

from pusher_api.dispatcher import CommandDispatcher
from pusher_api.kafka_producer import Published
from pusher_api.settings import Settings
from pusher_api.store import CommandRecord, CommandStore

log = structlog.get_logger(__name__)

_CLOCK_MARGIN = timedelta(seconds=30)
"""How far before `queued_at` the topic is read: record timestamps come from the producer's
clock, which may differ a little from the one that set `queued_at`."""


_SCAN_WITHOUT_TIMESTAMPS = 100_000
"""Records read back from a partition's end when the broker finds no offset for a time."""


class Repairer:
    """Looks commands up on the command topic by request id."""

    def __init__(self, settings: Settings, store: CommandStore, dispatcher: CommandDispatcher):
        self._settings = settings
        self._store = store
        self._dispatcher = dispatcher
        self._partitioner = DefaultPartitioner()

    async def look_up(self, records: Sequence[CommandRecord]) -> dict[str, Published]:
        """Where each command is on the topic (request id → partition, offset), for those
        found."""
        if not records:
            return {}
        topic = self._settings.kafka_command_topic
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._settings.kafka_bootstrap_servers,
            enable_auto_commit=False,
            request_timeout_ms=self._settings.kafka_timeout_ms,
        )
        await consumer.start()
        try:
            partitions = await self._dispatcher.publisher.partitions()
            wanted: dict[int, set[str]] = {}
            since: dict[int, datetime] = {}
            for record in records:
                key = record.device_id.encode()
                partition = self._partitioner(key, partitions, partitions)
                wanted.setdefault(partition, set()).add(record.request_id)
                start = record.queued_at - _CLOCK_MARGIN
                since[partition] = min(since.get(partition, start), start)
            assigned = [TopicPartition(topic, p) for p in wanted]
            consumer.assign(assigned)
            ends = await consumer.end_offsets(assigned)
            starts = await consumer.offsets_for_times(
                {tp: int(since[tp.partition].timestamp() * 1000) for tp in assigned}
            )
            firsts = await consumer.beginning_offsets(assigned)
            found: dict[str, Published] = {}
            reading = []
            for tp in assigned:
                start_at = starts.get(tp)
                # No offset for the time: on Kafka nothing that recent (a bounded look costs
                # little); brokers that stamp records with their own clock (the librdkafka
                # mock) answer no offsets at all, and the look is what finds the command.
                offset = (
                    start_at.offset
                    if start_at is not None
                    else max(firsts[tp], ends[tp] - _SCAN_WITHOUT_TIMESTAMPS)
                )
                if offset < ends[tp]:
                    consumer.seek(tp, offset)
                    reading.append(tp)
            while reading:
                batches = await consumer.getmany(*reading, timeout_ms=500)
                for tp, batch in batches.items():
                    for message in batch:
                        request_id = _request_id(message.headers)
                        if request_id in wanted[tp.partition]:
                            found[request_id] = Published(tp.partition, message.offset)
                reading = [tp for tp in reading if await consumer.position(tp) < ends[tp]]
            return found
        finally:
            await consumer.stop()

    async def repair_forever(self) -> None:
        """Repair stale queued commands until cancelled."""
        interval = max(0.5, self._settings.repair_after_s / 4)
        while True:
            await asyncio.sleep(interval)
            try:
                await self.repair_once()
            except (KafkaError, SQLAlchemyError, OSError) as error:
                log.warning("repair.failed", error=repr(error))

    async def repair_once(self) -> int:
        """One pass; returns how many commands it settled."""
        before = datetime.now(UTC) - timedelta(seconds=self._settings.repair_after_s)
        stale = [
            record
            for record in await self._store.stale_queued(before)
            if record.request_id not in self._dispatcher.unrecorded
        ]
        if not stale:
            return 0
        found = await self.look_up(stale)
        await self._store.mark_sent(
            [(request_id, ack) for request_id, ack in found.items()],
            datetime.now(UTC),
            [next(r.device_id for r in stale if r.request_id == rid) for rid in found],
        )
        for record in stale:
            if record.request_id not in found:
                await self._store.mark_lost(
                    record.request_id,
                    "not on the command topic: the service stopped before Kafka took it",
                    reschedule=await self._store.has_value(record.request_id),
                )
        log.info("repair.commands_repaired", on_topic=len(found), lost=len(stale) - len(found))
        return len(stale)


def _request_id(headers: Sequence[tuple[str, bytes]] | None) -> str | None:
    for key, value in headers or ():
        if key == "request_id":
            return bytes(value).decode()
    return None
