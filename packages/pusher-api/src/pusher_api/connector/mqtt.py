"""The reference MQTT connector: Kafka command topic → MQTT devices, device replies → status topic.

Delivery is at least once. A command's Kafka offset is committed only after the command was
handed to the MQTT broker (or found expired, or refused) *and* its status record was acknowledged
by Kafka. When the MQTT or Kafka connection fails mid-way, the connector reconnects and resumes
from the last committed offset, so a device may see a command twice: devices de-duplicate by
``request_id``.

A polled batch is published in record order over the one MQTT connection, without waiting for
each command's acknowledgement before the next is handed over (paho writes them in call order, and
the broker forwards one publisher's messages in order), so one device's commands reach it in the
order the API accepted them (the record key is the device id). The batch's offsets are committed
once every command in it is acknowledged and reported. Waiting for each broker acknowledgement in
turn held the connector to one round trip per command (~40 commands/s on a busy machine).

Before a batch of commands is published the cancellation view is caught up
(`CancellationView.catch_up`): a cancelled command is reported `cancelled` and never published.
A command whose `not_before` has not come is held until it has (the service publishes commands
only when due, so this only absorbs clock differences).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Mapping
from datetime import UTC, datetime
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from pusher_api.connector.cancellations import CancellationView
from pusher_api.connector.device_protocol import (
    command_message,
    command_properties,
    commands_topic,
    device_id_from_responses_topic,
    parse_reply,
    responses_subscription,
    user_property,
)
from pusher_api.connector.settings import MqttConnectorSettings
from pusher_api.errors import InvalidReplyError, MissingExtraError
from pusher_api.kafka_group import GROUP_ASSIGNORS
from pusher_api.messages import CommandStatus, DeviceCommand, Protocol, StatusReport

try:
    import aiomqtt
    import paho.mqtt.client as paho
except ModuleNotFoundError as missing:  # the `mqtt` extra
    raise MissingExtraError("the MQTT connector", "mqtt", missing.name or "aiomqtt") from None

log = structlog.get_logger(__name__)

# paho return codes that mean "this message can never be published", not "the link is down".
_PER_MESSAGE_ERRORS = frozenset({paho.MQTT_ERR_PAYLOAD_SIZE, paho.MQTT_ERR_INVAL})
_RECONNECT_DELAYS_S = (0.5, 1.0, 2.0, 5.0)
_POLL_TIMEOUT_MS = 200
_MAX_RECORDS_PER_POLL = 500
_TRACES_KEPT = 10_000
_JOIN_ATTEMPTS = 5
_REPLIES_IN_FLIGHT = 500


class MqttConnector:
    """Consumes the command topic as one member of a consumer group and serves MQTT devices."""

    def __init__(self, settings: MqttConnectorSettings) -> None:
        self._settings = settings
        self._cancellations = CancellationView(
            settings.kafka_bootstrap_servers, settings.kafka_cancel_topic
        )
        # traceparent of recently delivered commands, for device replies that do not echo it
        self._traces: dict[str, str] = {}
        # counts since start, logged when the connector stops
        self.handled = 0
        self.delivered = 0
        self.replies = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Serve until ``stop`` is set; the batch in hand is finished and committed first."""
        settings = self._settings
        producer = AIOKafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            acks="all",
            enable_idempotence=True,
        )
        async with contextlib.AsyncExitStack() as cleanup:
            # stop() also releases what a failed (or never reached) start() left open.
            cleanup.push_async_callback(producer.stop)
            cleanup.push_async_callback(self._cancellations.stop)
            await producer.start()
            await self._cancellations.start()
            consumer = await self._join_group(cleanup)
            log.info(
                "connector.started",
                commands=settings.kafka_command_topic,
                statuses=settings.kafka_status_topic,
                group=settings.kafka_connector_group,
            )
            await self._serve_until_stopped(consumer, producer, stop)
        log.info(
            "connector.stopped",
            reason="stop requested; last batch committed",
            commands=self.handled,
            delivered=self.delivered,
            replies=self.replies,
        )

    async def _join_group(self, cleanup: contextlib.AsyncExitStack) -> AIOKafkaConsumer:
        """Start the command consumer in the connectors' group, trying again a few times when
        the join is refused (a coordinator moving, or a rebalance race; see `kafka_group`)."""
        settings = self._settings
        for attempt in range(_JOIN_ATTEMPTS):
            consumer = AIOKafkaConsumer(
                settings.kafka_command_topic,
                bootstrap_servers=settings.kafka_bootstrap_servers,
                group_id=settings.kafka_connector_group,
                enable_auto_commit=False,
                # A new group starts at the oldest command: nothing queued before it is skipped.
                auto_offset_reset="earliest",
                partition_assignment_strategy=GROUP_ASSIGNORS,
            )
            try:
                await consumer.start()
            except KafkaError as error:
                await consumer.stop()
                if attempt == _JOIN_ATTEMPTS - 1:
                    raise
                log.warning("connector.group_join_failed", error=repr(error), retry_in_s=1.0)
                await asyncio.sleep(1.0)
                continue
            cleanup.push_async_callback(consumer.stop)
            return consumer
        raise AssertionError("unreachable")

    async def _serve_until_stopped(
        self, consumer: AIOKafkaConsumer, producer: AIOKafkaProducer, stop: asyncio.Event
    ) -> None:
        failures = 0
        while not stop.is_set():
            try:
                async with self._mqtt_client() as mqtt:
                    log.info(
                        "connector.mqtt_connected",
                        host=self._settings.mqtt_host,
                        port=self._settings.mqtt_port,
                    )
                    failures = 0
                    await self._serve(consumer, producer, mqtt, stop)
            except (aiomqtt.MqttError, KafkaError) as error:
                delay = _RECONNECT_DELAYS_S[min(failures, len(_RECONNECT_DELAYS_S) - 1)]
                failures += 1
                log.warning(
                    "connector.connection_lost",
                    error=str(error),
                    mqtt=f"{self._settings.mqtt_host}:{self._settings.mqtt_port}",
                    retry_in_s=delay,
                )
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
                with contextlib.suppress(KafkaError):
                    # Uncommitted commands are handled again: at least once.
                    await consumer.seek_to_committed()

    def _mqtt_client(self) -> aiomqtt.Client:
        settings = self._settings
        return aiomqtt.Client(
            settings.mqtt_host,
            settings.mqtt_port,
            username=settings.mqtt_username,
            password=settings.mqtt_password.get_secret_value() if settings.mqtt_password else None,
            protocol=aiomqtt.ProtocolVersion.V5,
            timeout=settings.mqtt_publish_timeout_s,
        )

    async def _serve(
        self,
        consumer: AIOKafkaConsumer,
        producer: AIOKafkaProducer,
        mqtt: aiomqtt.Client,
        stop: asyncio.Event,
    ) -> None:
        await mqtt.subscribe(responses_subscription(self._settings.mqtt_share_group), qos=1)
        replies = asyncio.create_task(self._forward_replies(mqtt, producer))
        try:
            while not stop.is_set():
                batches = await consumer.getmany(
                    timeout_ms=_POLL_TIMEOUT_MS, max_records=_MAX_RECORDS_PER_POLL
                )
                await self._handle_batches(batches, consumer, producer, mqtt)
                if replies.done():
                    replies.result()  # re-raises what ended the reply loop
                    raise aiomqtt.MqttError("the MQTT reply subscription ended")
        finally:
            replies.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await replies

    async def _handle_batches(
        self,
        batches: Mapping[TopicPartition, list[ConsumerRecord[bytes, bytes]]],
        consumer: AIOKafkaConsumer,
        producer: AIOKafkaProducer,
        mqtt: aiomqtt.Client,
    ) -> None:
        if not batches:
            return
        await self._cancellations.catch_up()
        pending: list[Awaitable[Any]] = []
        for records in batches.values():
            for record in records:
                outcome = await self._handle_command(record, mqtt, producer)
                if outcome is not None:
                    pending.append(outcome)
        try:
            await asyncio.gather(*pending)
        except BaseException:
            for outcome in pending:
                if isinstance(outcome, asyncio.Task):
                    outcome.cancel()
            raise
        # Commit only what the broker took and Kafka has confirmed the status of.
        await consumer.commit(
            {partition: records[-1].offset + 1 for partition, records in batches.items()}
        )
        self.handled += sum(len(records) for records in batches.values())

    async def _handle_command(
        self,
        record: ConsumerRecord[bytes, bytes],
        mqtt: aiomqtt.Client,
        producer: AIOKafkaProducer,
    ) -> Awaitable[Any] | None:
        """Start handling one command; returns what completes when its status record is
        acknowledged, None when there is nothing to report. A command to publish is handed
        to the MQTT client before this returns, so commands go out in record order."""
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
        if command.protocol is not Protocol.mqtt:
            return None

        if not command.due(datetime.now(UTC)):
            assert command.not_before is not None
            await asyncio.sleep((command.not_before - datetime.now(UTC)).total_seconds())
            await self._cancellations.catch_up()
        traceparent = _header(record, "traceparent")
        if self._cancellations.is_cancelled(command.request_id):
            log.info("connector.command_cancelled", request_id=command.request_id)
            return await self._report(
                producer,
                command.device_id,
                command.request_id,
                CommandStatus.cancelled,
                "cancelled before it was published to the device",
                traceparent,
            )

        now = datetime.now(UTC)
        if command.expires_at is not None and command.expires_at <= now:
            log.info("connector.command_expired", request_id=command.request_id)
            return await self._report(
                producer,
                command.device_id,
                command.request_id,
                CommandStatus.expired,
                f"expired at {command.expires_at.isoformat()} before it could be published",
                traceparent,
            )

        delivery = asyncio.create_task(self._deliver(command, now, traceparent, mqtt, producer))
        await asyncio.sleep(0)  # the task hands the command to the MQTT client now
        return delivery

    async def _deliver(
        self,
        command: DeviceCommand,
        now: datetime,
        traceparent: str | None,
        mqtt: aiomqtt.Client,
        producer: AIOKafkaProducer,
    ) -> None:
        """Publish one command, then report it `delivered` (or `failed` when the broker can
        never take it); returns once Kafka acknowledged the report."""
        try:
            await mqtt.publish(
                commands_topic(command.device_id),
                command_message(
                    request_id=command.request_id,
                    command_type=command.command_type,
                    payload=command.payload,
                    timestamp=command.timestamp,
                    expires_at=command.expires_at,
                ),
                qos=command.qos,
                retain=command.retain,
                properties=command_properties(
                    command.device_id, command.request_id, command.expires_at, now, traceparent
                ),
            )
        except aiomqtt.MqttCodeError as error:
            if error.rc not in _PER_MESSAGE_ERRORS:
                raise  # the connection is gone: reconnect and publish again
            await (
                await self._report_failed(
                    producer, command, f"MQTT refused it: {error}", traceparent
                )
            )
            return
        except ValueError as error:  # invalid topic or payload, found before sending
            await (
                await self._report_failed(
                    producer, command, f"cannot publish: {error}", traceparent
                )
            )
            return
        log.debug("connector.command_delivered", request_id=command.request_id, qos=command.qos)
        self.delivered += 1
        if traceparent is not None:
            if len(self._traces) >= _TRACES_KEPT:
                self._traces.clear()
            self._traces[command.request_id] = traceparent
        await (
            await self._report(
                producer,
                command.device_id,
                command.request_id,
                CommandStatus.delivered,
                None,
                traceparent,
            )
        )

    async def _report_failed(
        self,
        producer: AIOKafkaProducer,
        command: DeviceCommand,
        detail: str,
        traceparent: str | None,
    ) -> asyncio.Future[Any]:
        log.warning("connector.command_failed", request_id=command.request_id, detail=detail)
        return await self._report(
            producer,
            command.device_id,
            command.request_id,
            CommandStatus.failed,
            detail,
            traceparent,
        )

    async def _report(
        self,
        producer: AIOKafkaProducer,
        device_id: str,
        request_id: str,
        status: CommandStatus,
        detail: str | None,
        traceparent: str | None = None,
    ) -> asyncio.Future[Any]:
        """Queue one status record; the returned future resolves when Kafka acknowledged it."""
        report = StatusReport(
            request_id=request_id,
            device_id=device_id,
            status=status,
            detail=detail,
            traceparent=traceparent,
        )
        future: asyncio.Future[Any] = await producer.send(
            self._settings.kafka_status_topic,
            value=report.kafka_value(),
            key=report.kafka_key(),
            headers=report.kafka_headers(),
        )
        return future

    async def _forward_replies(self, mqtt: aiomqtt.Client, producer: AIOKafkaProducer) -> None:
        # Status records of replies are not awaited one by one (the MQTT client acknowledged
        # the reply on receipt already, so waiting adds no guarantee, only a broker round trip
        # per reply); at most `_REPLIES_IN_FLIGHT` wait, and a failure ends the loop.
        in_flight: set[asyncio.Future[Any]] = set()
        async for message in mqtt.messages:
            topic = message.topic.value
            properties = message.properties
            correlation = getattr(properties, "CorrelationData", None) if properties else None
            payload = message.payload if isinstance(message.payload, bytes) else b""
            try:
                device_id = device_id_from_responses_topic(topic)
                reply = parse_reply(payload, correlation)
            except InvalidReplyError as error:
                log.warning("connector.reply_dropped", topic=topic, reason=str(error))
                continue
            self.replies += 1
            log.debug(
                "connector.device_replied",
                request_id=reply.request_id,
                device_id=device_id,
                status=reply.status,
            )
            acknowledgement = await self._report(
                producer,
                device_id,
                reply.request_id,
                CommandStatus(reply.status),
                reply.detail,
                user_property(properties, "traceparent") or self._traces.get(reply.request_id),
            )
            in_flight.add(acknowledgement)
            if len(in_flight) >= _REPLIES_IN_FLIGHT:
                await asyncio.gather(*in_flight)
                in_flight.clear()
            else:
                done = {future for future in in_flight if future.done()}
                for future in done:
                    future.result()  # re-raises a failed status record
                in_flight -= done


def _header(record: ConsumerRecord[bytes, bytes], name: str) -> str | None:
    for key, value in record.headers or ():
        if key == name:
            return bytes(value).decode("utf-8", errors="replace")
    return None
