"""The CoAP connector: Kafka command topic → device queues → devices, results → status topic.

Delivery is at least once, as in the MQTT connector. A command's Kafka offset is committed once
the command is in the queue file (or ended with an acknowledged status record), so a connector
killed at any point loses nothing: records read again are recognised by ``request_id``. Commands
queue per device in the order they arrived (one device's records share a partition).

Several things run side by side on one event loop: the Kafka consumer, the reader of the cancel
topic (`CancellationView`, feeding `cancel_gate`), the CoAP endpoint devices talk to (`site`), the
pushes to listening devices (`push`), and a sweep that ends commands whose ``expires_at`` passed
before their device checked in.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping
from datetime import UTC, datetime

import aiocoap
import structlog
from aiocoap import resource
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from pusher_api.connector.cancellations import CancellationView
from pusher_api.connector.coap.admission import Refusal, admit
from pusher_api.connector.coap.cancel_gate import CancelGate
from pusher_api.connector.coap.locks import DeviceLocks
from pusher_api.connector.coap.push import Pusher
from pusher_api.connector.coap.queue import DeviceQueues, QueuedCommand, QueueState
from pusher_api.connector.coap.reporter import Report, StatusReporter
from pusher_api.connector.coap.site import DeviceSite
from pusher_api.connector.settings import CoapConnectorSettings
from pusher_api.messages import CommandStatus, DeviceCommand, Protocol

log = structlog.get_logger(__name__)

_RECONNECT_DELAYS_S = (0.5, 1.0, 2.0, 5.0)
_POLL_TIMEOUT_MS = 200
_MAX_RECORDS_PER_POLL = 500
_SWEEP_INTERVAL_S = 0.5


class CoapConnector:
    """Serves CoAP devices from one consumer-group member's partitions."""

    def __init__(self, settings: CoapConnectorSettings) -> None:
        self._settings = settings
        self.port: int | None = None
        """The UDP port devices reach, once serving (useful with ``COAP_PORT=0``)."""

    async def run(self, stop: asyncio.Event) -> None:
        """Serve until ``stop`` is set; the batch in hand is queued and committed first."""
        settings = self._settings
        consumer = AIOKafkaConsumer(
            settings.kafka_command_topic,
            bootstrap_servers=settings.kafka_bootstrap_servers,
            group_id=settings.kafka_connector_group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        producer = AIOKafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap_servers, acks="all", enable_idempotence=True
        )
        queues = DeviceQueues(settings.coap_queue_file, settings.coap_max_queued)
        reporter = StatusReporter(producer, settings.kafka_status_topic)
        gate = CancelGate(queues, reporter)
        cancellations = CancellationView(
            settings.kafka_bootstrap_servers, settings.kafka_cancel_topic, on_cancel=gate.on_cancel
        )
        gate.watch(cancellations)
        async with contextlib.AsyncExitStack() as cleanup:
            cleanup.callback(queues.close)
            cleanup.push_async_callback(producer.stop)
            cleanup.push_async_callback(consumer.stop)
            cleanup.push_async_callback(cancellations.stop)
            await producer.start()
            # Every cancellation already on the topic is known (and applied) before serving.
            await cancellations.start()
            await consumer.start()
            site = resource.Site()
            site.add_resource(["devices"], DeviceSite(queues, reporter, gate, DeviceLocks()))
            context = await aiocoap.Context.create_server_context(
                site, bind=(settings.coap_host, settings.coap_port), transports=["udp6"]
            )
            cleanup.push_async_callback(context.shutdown)
            self.port = bound_port(context) or settings.coap_port
            pusher = Pusher(
                context,
                queues,
                reporter,
                gate,
                ack_timeout_s=settings.coap_ack_timeout_s,
                max_retransmit=settings.coap_max_retransmit,
                max_transmit_wait_s=settings.max_transmit_wait_s,
            )
            cleanup.push_async_callback(pusher.close)
            queues.requeue_interrupted_pushes()
            for device_id in queues.devices_with_pushes():
                pusher.wake(device_id)
            log.info(
                "connector.coap_listening",
                host=settings.coap_host,
                port=self.port,
                queue_file=str(settings.coap_queue_file),
                commands=settings.kafka_command_topic,
                statuses=settings.kafka_status_topic,
                group=settings.kafka_connector_group,
            )
            sweep = asyncio.create_task(_sweep_expired(queues, reporter))
            try:
                await self._consume_until_stopped(consumer, queues, reporter, gate, pusher, stop)
            finally:
                sweep.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sweep
        log.info("connector.stopped", reason="stop requested; last batch committed")

    async def _consume_until_stopped(
        self,
        consumer: AIOKafkaConsumer,
        queues: DeviceQueues,
        reporter: StatusReporter,
        gate: CancelGate,
        pusher: Pusher,
        stop: asyncio.Event,
    ) -> None:
        failures = 0
        while not stop.is_set():
            try:
                batches = await consumer.getmany(
                    timeout_ms=_POLL_TIMEOUT_MS, max_records=_MAX_RECORDS_PER_POLL
                )
                await self._queue_batches(batches, consumer, queues, reporter, gate, pusher)
                failures = 0
            except KafkaError as error:
                delay = _RECONNECT_DELAYS_S[min(failures, len(_RECONNECT_DELAYS_S) - 1)]
                failures += 1
                log.warning("connector.connection_lost", error=str(error), retry_in_s=delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
                with contextlib.suppress(KafkaError):
                    await consumer.seek_to_committed()

    async def _queue_batches(
        self,
        batches: Mapping[TopicPartition, list[ConsumerRecord[bytes, bytes]]],
        consumer: AIOKafkaConsumer,
        queues: DeviceQueues,
        reporter: StatusReporter,
        gate: CancelGate,
        pusher: Pusher,
    ) -> None:
        for partition, records in batches.items():
            now = datetime.now(UTC)
            admitted: list[QueuedCommand] = []
            refused: list[Refusal] = []
            for record in records:
                outcome = _admit_record(record, gate, now)
                if isinstance(outcome, Refusal):
                    refused.append(outcome)
                elif outcome is not None:
                    admitted.append(outcome)
            for full in queues.add(admitted):
                refused.append(
                    Refusal(
                        full.device_id,
                        full.request_id,
                        CommandStatus.failed,
                        f"device queue full: {self._settings.coap_max_queued} commands are "
                        "waiting for the device to check in (COAP_MAX_QUEUED)",
                        full.traceparent,
                    )
                )
            await reporter.report_many(
                [
                    Report(r.device_id, r.request_id, r.status, r.detail, r.traceparent)
                    for r in refused
                ]
            )
            await consumer.commit({partition: records[-1].offset + 1})
            for device_id in {c.device_id for c in admitted if c.push_uri}:
                pusher.wake(device_id)
            if admitted:
                log.info("connector.commands_queued", count=len(admitted))


def _admit_record(
    record: ConsumerRecord[bytes, bytes], gate: CancelGate, now: datetime
) -> QueuedCommand | Refusal | None:
    try:
        command = DeviceCommand.from_kafka(record.value or b"")
    except ValidationError as error:
        log.error(
            "connector.malformed_command_skipped",
            partition=record.partition,
            offset=record.offset,
            error=str(error),
        )
        return None
    if command.protocol is not Protocol.coap:
        return None
    return admit(
        command,
        cancelled=gate.is_cancelled(command.request_id),
        traceparent=_header(record, "traceparent"),
        now=now,
    )


def _header(record: ConsumerRecord[bytes, bytes], name: str) -> str | None:
    for key, value in record.headers or ():
        if key == name:
            return bytes(value).decode("utf-8", errors="replace")
    return None


async def _sweep_expired(queues: DeviceQueues, reporter: StatusReporter) -> None:
    """End waiting commands past ``expires_at``: their device did not check in in time."""
    last_forget = 0.0
    while True:
        await asyncio.sleep(_SWEEP_INTERVAL_S)
        now = time.time()
        overdue = queues.overdue(now)
        if overdue:
            try:
                await reporter.report_many(
                    [
                        Report(
                            c.device_id,
                            c.request_id,
                            CommandStatus.expired,
                            "expires_at passed before the command reached the device",
                            c.traceparent,
                        )
                        for c in overdue
                    ]
                )
            except KafkaError as error:
                log.warning("connector.kafka_unavailable", error=str(error))
                continue
            queues.move((c.request_id for c in overdue), QueueState.done, now)
        if now - last_forget > 3600:
            queues.forget_ended(now)
            last_forget = now


def bound_port(context: aiocoap.Context) -> int | None:
    """The UDP port the server context got (aiocoap has no public accessor for it)."""
    for interface in context.request_interfaces:
        messages = getattr(getattr(interface, "token_interface", None), "message_interface", None)
        local_port = getattr(messages, "_local_port", None)
        if local_port is not None:
            port: int = local_port()
            return port
    return None
