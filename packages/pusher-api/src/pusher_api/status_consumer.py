"""Reads connectors' reports from the status topic and moves commands along their lifecycle.

Replicas on one PostgreSQL are members of one consumer group (`KAFKA_STATUS_GROUP`, default
`pusher-api-status`): each partition of the status topic has one reader, so each report is
applied once, by one replica, and its change reaches the others through the store's NOTIFY
(see `store`). The consumer keeps its position in the store, in the same transaction as the
transitions it applied, and seeks there whenever it is given a partition; so a restart or a
rebalance resumes exactly where the last applied report ended (a report applied twice around a
rebalance changes nothing: transitions only move forward). On SQLite one process owns the
file, so the consumer takes every partition without a group and starts at once (a group join
costs the broker's initial rebalance delay, 3 s by default).

Without the group every replica applied every report: the work of the database grew with the
number of replicas, and the replicas queued behind each other's locks on the same rows, which
held three replicas to ~20 reports per second end to end.

A report is applied only when it names the command's device; one that does not is refused and
logged.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Set

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from pusher_api.kafka_group import GROUP_ASSIGNORS
from pusher_api.messages import StatusReport
from pusher_api.metrics import Metrics
from pusher_api.settings import Settings
from pusher_api.store import CommandStore, ReportsApplied

log = structlog.get_logger(__name__)

_APPLY_ATTEMPTS = 5


_GROUP_REQUEST_TIMEOUT_MS = 40_000


def _request_timeout_ms(settings: Settings, group: str | None) -> int:
    """How long the consumer waits for any answer of the broker.

    In a group this must outlast a rebalance: the broker holds each member's JoinGroup until
    every member has rejoined (librdkafka's mock until the session timeout less a second, 9 s).
    With 5 s the JoinGroup of every member already in the group timed out whenever another
    joined or left: each dropped its connection and asked again, the broker had meanwhile
    handed partitions to members whose answer went to a closed connection, and those
    partitions had no reader until the next rebalance, which went the same way. aiokafka's
    default (40 s) is above the session timeout (10 s), as Kafka's own clients have it.
    """
    if group is None:
        return max(settings.kafka_timeout_ms, 5000)
    return max(settings.kafka_timeout_ms, _GROUP_REQUEST_TIMEOUT_MS)


class StatusConsumer:
    """Consumes `KAFKA_STATUS_TOPIC` into the store."""

    def __init__(self, settings: Settings, store: CommandStore, metrics: Metrics):
        self._settings = settings
        self._store = store
        self._metrics = metrics
        self._topic = settings.kafka_status_topic
        self.connected = False
        self.last_error: str | None = None
        self.partitions: dict[int, int | None] = {}
        """The status topic's partitions this consumer reads now, each with the offset of the
        next report it applies (None until it has a stored position or applied one there);
        `GET /api/v1/status` shows it, so an operator (and the scale-out test) sees which
        replica owns which partition and how far it got."""

    async def run(self) -> None:
        """Consume until cancelled, reconnecting with backoff when Kafka or the store fail."""
        backoff = 0.2
        group = self._settings.status_group
        while True:
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self._settings.kafka_bootstrap_servers,
                client_id="pusher-api-status",
                group_id=group,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                request_timeout_ms=_request_timeout_ms(self._settings, group),
                partition_assignment_strategy=GROUP_ASSIGNORS,
            )
            try:
                await consumer.start()
                if group is None:
                    consumer.subscribe([self._topic])
                    await self._resume(consumer)
                else:
                    consumer.subscribe([self._topic], listener=_SeekToStored(self, consumer))
                self.connected = True
                backoff = 0.2
                await self._consume(consumer)
            except (KafkaError, SQLAlchemyError, OSError) as error:
                self.connected = False
                self.partitions = {}
                self.last_error = f"status consumer: {error!r}"
                log.warning("status_consumer.failed", error=repr(error))
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                self.partitions = {}
                with contextlib.suppress(KafkaError, OSError):
                    await consumer.stop()

    async def _resume(self, consumer: AIOKafkaConsumer) -> None:
        """Without a group: wait for the topic's partitions, then seek to the stored positions."""
        while not consumer.assignment():  # noqa: ASYNC110  (aiokafka offers no event)
            await asyncio.sleep(0.05)
        await self.seek_to_stored(consumer, consumer.assignment())

    async def seek_to_stored(
        self, consumer: AIOKafkaConsumer, partitions: Set[TopicPartition]
    ) -> None:
        """Seek each of `partitions` to the position stored with the last reports applied."""
        stored = await self._store.status_offsets(self._topic)
        for partition in partitions:
            position = stored.get(partition.partition)
            if position is not None:
                consumer.seek(partition, position)
            self.partitions[partition.partition] = position

    def revoked(self, partitions: Set[TopicPartition]) -> None:
        """`partitions` went to another member of the group."""
        for partition in partitions:
            self.partitions.pop(partition.partition, None)

    async def _apply(
        self, reports: list[StatusReport], next_offsets: dict[int, int]
    ) -> ReportsApplied:
        """Apply, retrying a few times when the database gives up on the transaction (another
        replica's concurrent update of the same rows) before giving up on the connection."""
        for attempt in range(_APPLY_ATTEMPTS):
            try:
                return await self._store.apply_reports(reports, self._topic, next_offsets)
            except SQLAlchemyError as error:
                if attempt == _APPLY_ATTEMPTS - 1:
                    raise
                log.info("status_consumer.apply_failed", error=repr(error))
                await asyncio.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")

    async def _consume(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            batches = await consumer.getmany(timeout_ms=500, max_records=1000)
            if not batches:
                continue
            reports: list[StatusReport] = []
            next_offsets: dict[int, int] = {}
            for partition, records in batches.items():
                next_offsets[partition.partition] = records[-1].offset + 1
                for record in records:
                    try:
                        reports.append(StatusReport.from_kafka(record.value))
                    except (ValidationError, TypeError) as error:
                        self._metrics.status_reports.labels("malformed").inc()
                        log.warning(
                            "status_consumer.malformed_report_skipped",
                            partition=record.partition,
                            offset=record.offset,
                            error=str(error).splitlines()[0],
                        )
            applied = await self._apply(reports, next_offsets)
            for partition, offset in next_offsets.items():
                if partition in self.partitions:  # not revoked while the batch was applied
                    self.partitions[partition] = offset
            for report in reports:
                self._metrics.status_reports.labels(report.status.value).inc()
            for report, device_id in applied.refused:
                self._metrics.status_reports.labels("refused").inc()
                log.warning(
                    "status_consumer.report_refused_wrong_device",
                    request_id=report.request_id,
                    reported_device_id=report.device_id,
                    command_device_id=device_id,
                    status=report.status.value,
                )
            ignored = len(reports) - applied.changed - len(applied.refused)
            if ignored:
                self._metrics.status_reports.labels("ignored").inc(ignored)


class _SeekToStored(ConsumerRebalanceListener):  # type: ignore[misc]
    """Group member: a partition this replica is given is read from the stored position."""

    def __init__(self, owner: StatusConsumer, consumer: AIOKafkaConsumer) -> None:
        self._owner = owner
        self._consumer = consumer

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        """Nothing to hand over: positions are stored with every applied batch."""
        self._owner.revoked(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        log.info("status_consumer.assigned", partitions=sorted(tp.partition for tp in assigned))
        await self._owner.seek_to_stored(self._consumer, assigned)
