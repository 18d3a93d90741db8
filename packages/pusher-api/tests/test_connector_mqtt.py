"""The MQTT connector against a real Kafka-protocol broker and the real Mosquitto on loopback.

The module's topics and consumer group are its own on the session's broker (`dev_broker`), and
each test uses its own device ids, so tests never see each other's records or MQTT messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import aiomqtt
import pytest
import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from pusher_api.cli import app as cli
from pusher_api.connector.device_protocol import device_id_from_responses_topic, parse_reply
from pusher_api.connector.mqtt import MqttConnector
from pusher_api.connector.settings import MqttConnectorSettings
from pusher_api.dev_broker import DevBroker
from pusher_api.errors import InvalidReplyError
from pusher_api.messages import CommandStatus
from pusher_api.testing.tcp_proxy import KafkaProxy
from typer.testing import CliRunner

from .connector_harness import (
    MQTT_HOST,
    MQTT_PORT,
    TIMEOUT_S,
    CommandWriter,
    Device,
    StatusReader,
    body,
    connector_in_thread,
    connector_settings,
    device,
)

pytestmark = [pytest.mark.kafka, pytest.mark.mqtt]


@pytest.fixture(scope="module")
def settings(dev_broker: DevBroker) -> MqttConnectorSettings:
    return connector_settings(dev_broker.bootstrap_servers)


@pytest.fixture(scope="module")
def connector(settings: MqttConnectorSettings) -> Iterator[None]:
    with connector_in_thread(settings):
        yield


@pytest.fixture
async def commands(settings: MqttConnectorSettings) -> AsyncIterator[CommandWriter]:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all")
    await producer.start()
    yield CommandWriter(producer, settings.kafka_command_topic)
    await producer.stop()


@pytest.fixture
async def statuses(settings: MqttConnectorSettings) -> AsyncIterator[StatusReader]:
    consumer = AIOKafkaConsumer(
        settings.kafka_status_topic,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    yield StatusReader(consumer)
    await consumer.stop()


async def test_command_reaches_its_device_with_its_qos_and_is_reported_delivered(
    connector: None, commands: CommandWriter, statuses: StatusReader
) -> None:
    async with device() as dev:
        sent = [
            await commands.send(dev.device_id, qos=qos, payload={"step": qos}) for qos in (0, 1, 2)
        ]
        received = [await dev.next_command() for _ in sent]
        for command in sent:
            await statuses.wait_for(command.request_id, CommandStatus.delivered)

    assert [message.qos for message in received] == [0, 1, 2]
    assert [message.topic.value for message in received] == [
        f"devices/{dev.device_id}/commands"
    ] * 3
    assert [body(message) for message in received] == [
        {
            "request_id": command.request_id,
            "command_type": "reboot",
            "payload": {"step": command.qos},
            "timestamp": command.timestamp.isoformat().replace("+00:00", "Z"),
            "expires_at": None,
        }
        for command in sent
    ]
    assert received[1].properties is not None
    assert received[1].properties.CorrelationData == sent[1].request_id.encode()
    assert received[1].properties.ResponseTopic == f"devices/{dev.device_id}/responses"
    assert {  # status records are keyed by device id
        key
        for key, report in zip(statuses.keys, statuses.reports, strict=True)
        if report.request_id in {c.request_id for c in sent}
    } == {dev.device_id.encode()}


async def test_retained_command_reaches_a_device_that_subscribes_later(
    connector: None, commands: CommandWriter, statuses: StatusReader
) -> None:
    device_id = f"late-{uuid.uuid4().hex[:10]}"
    command = await commands.send(device_id, retain=True, command_type="set_config")
    await statuses.wait_for(command.request_id, CommandStatus.delivered)
    try:
        async with device(device_id) as dev:
            message = await dev.next_command()
        assert message.retain
        assert body(message)["request_id"] == command.request_id
    finally:  # clear the retained message: Mosquitto persists it across runs
        async with aiomqtt.Client(MQTT_HOST, MQTT_PORT) as cleaner:
            await cleaner.publish(f"devices/{device_id}/commands", b"", qos=1, retain=True)


async def test_not_retained_command_is_not_kept_for_late_subscribers(
    connector: None, commands: CommandWriter, statuses: StatusReader
) -> None:
    device_id = f"late-{uuid.uuid4().hex[:10]}"
    first = await commands.send(device_id, retain=False)
    await statuses.wait_for(first.request_id, CommandStatus.delivered)
    async with device(device_id) as dev:
        second = await commands.send(device_id, retain=False)
        message = await dev.next_command()
    assert body(message)["request_id"] == second.request_id


async def test_expired_command_is_not_published_and_is_reported_expired(
    connector: None, commands: CommandWriter, statuses: StatusReader
) -> None:
    async with device() as dev:
        stale = await commands.send(
            dev.device_id, expires_at=datetime.now(UTC) - timedelta(seconds=1)
        )
        fresh = await commands.send(
            dev.device_id, expires_at=datetime.now(UTC) + timedelta(hours=1)
        )
        # One device's commands share a partition and are handled in order: the first message
        # the device gets is the fresh one, so the stale one was never published.
        message = await dev.next_command()
        report = await statuses.wait_for(stale.request_id, CommandStatus.expired)

    assert body(message)["request_id"] == fresh.request_id
    assert message.properties is not None
    assert 3590 <= message.properties.MessageExpiryInterval <= 3600
    assert statuses.of(stale.request_id) == [CommandStatus.expired]
    assert report.detail is not None
    assert "expired at" in report.detail


async def test_commands_for_other_protocols_are_left_to_their_connectors(
    connector: None, commands: CommandWriter, statuses: StatusReader
) -> None:
    async with device() as dev:
        coap = await commands.send(dev.device_id, protocol="coap")
        mqtt = await commands.send(dev.device_id, protocol="mqtt")
        message = await dev.next_command()
        await statuses.wait_for(mqtt.request_id, CommandStatus.delivered)
    assert body(message)["request_id"] == mqtt.request_id
    assert statuses.of(coap.request_id) == []


async def test_device_replies_become_succeeded_or_failed(
    connector: None, commands: CommandWriter, statuses: StatusReader
) -> None:
    async with device() as dev:
        ok, broken, correlated = [await commands.send(dev.device_id) for _ in range(3)]
        for _ in range(3):
            await dev.next_command()
        await dev.reply(b"not json")  # dropped with a warning; the connector carries on
        await dev.reply({"status": "succeeded"})  # no request_id, no correlation: dropped
        await dev.reply({"request_id": ok.request_id, "success": True})
        await dev.reply({"request_id": broken.request_id, "status": "failed", "detail": "no disk"})
        await _reply_with_correlation(dev, correlated.request_id)

        assert (await statuses.wait_for(ok.request_id, CommandStatus.succeeded)).detail is None
        failed = await statuses.wait_for(broken.request_id, CommandStatus.failed)
        await statuses.wait_for(correlated.request_id, CommandStatus.succeeded)

    assert failed.detail == "no disk"
    assert failed.device_id == dev.device_id


async def _reply_with_correlation(dev: Device, request_id: str) -> None:
    """MQTT v5 request/response: the request is named by CorrelationData, not in the body."""
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    properties = Properties(PacketTypes.PUBLISH)
    properties.CorrelationData = request_id.encode()
    await dev.client.publish(
        f"devices/{dev.device_id}/responses",
        json.dumps({"success": True}).encode(),
        qos=1,
        properties=properties,
    )


async def test_offsets_are_committed_once_the_status_is_on_kafka(
    connector: None,
    settings: MqttConnectorSettings,
    commands: CommandWriter,
    statuses: StatusReader,
) -> None:
    async with device() as dev:
        command = await commands.send(dev.device_id)
        await dev.next_command()
        await statuses.wait_for(command.request_id, CommandStatus.delivered)

    # Same group, no subscription: reads the group's committed offsets without joining it.
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=settings.kafka_connector_group,
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        partitions = [
            TopicPartition(settings.kafka_command_topic, p) for p in await commands.partitions()
        ]
        async with asyncio.timeout(TIMEOUT_S):
            while True:
                ends = await consumer.end_offsets(partitions)
                committed = {p: await consumer.committed(p) or 0 for p in partitions}
                if committed == ends:
                    break
                await asyncio.sleep(0.05)
    finally:
        await consumer.stop()
    assert sum(ends.values()) > 0


def test_cli_rejects_a_bad_setting_with_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MQTT_PORT", "not-a-port")
    result = CliRunner().invoke(cli, ["connector", "mqtt"])
    assert result.exit_code == 2
    assert "Invalid setting MQTT_PORT" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """The CLI configures logging for its process; in-process runs must not leave that behind
    (a handler on CliRunner's closed stream breaks every later log line)."""
    names = ["", "aiokafka", "uvicorn", "uvicorn.error", "uvicorn.access"]
    saved = {
        name: (logger.handlers[:], logger.level, logger.propagate)
        for name in names
        for logger in [logging.getLogger(name)]
    }
    yield
    for name, (handlers, level, propagate) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers, logger.propagate = handlers, propagate
        logger.setLevel(level)
    structlog.reset_defaults()


@pytest.mark.usefixtures("restore_logging")
def test_cli_says_when_kafka_is_unreachable() -> None:
    result = CliRunner().invoke(cli, ["connector", "mqtt", "--bootstrap-servers", "127.0.0.1:1"])
    assert result.exit_code == 1
    assert "Cannot reach Kafka at 127.0.0.1:1" in " ".join(result.output.split())
    assert isinstance(result.exception, SystemExit)


class TcpProxy:
    """A byte pipe on a fixed loopback port in front of Mosquitto, to cut and restore MQTT."""

    def __init__(self, upstream_port: int) -> None:
        self._upstream_port = upstream_port
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """Drop every connection and refuse new ones."""
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(MQTT_HOST, self._upstream_port)
        self._writers |= {writer, up_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers -= {writer, up_writer}


async def test_commands_sent_while_mqtt_is_down_are_delivered_after_it_returns(
    dev_broker: DevBroker,
) -> None:
    proxy = TcpProxy(MQTT_PORT)
    await proxy.start()
    settings = connector_settings(dev_broker.bootstrap_servers).model_copy(
        update={"mqtt_port": proxy.port}
    )
    stop = asyncio.Event()
    running = asyncio.create_task(MqttConnector(settings).run(stop))
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
    consumer = AIOKafkaConsumer(
        settings.kafka_status_topic,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
    )
    await producer.start()
    await consumer.start()
    try:
        commands, statuses = (
            CommandWriter(producer, settings.kafka_command_topic),
            StatusReader(consumer),
        )
        async with device() as dev:  # the device talks to Mosquitto directly: only the
            before = await commands.send(dev.device_id)  # connector loses its connection
            await statuses.wait_for(before.request_id, CommandStatus.delivered, timeout=60)
            await dev.next_command()

            await proxy.cut()
            during = [await commands.send(dev.device_id, payload={"n": n}) for n in range(3)]
            await asyncio.sleep(1.0)  # the connector notices and retries against a closed port
            await proxy.start()

            received = [body(await dev.next_command()) for _ in during]
            for command in during:
                await statuses.wait_for(command.request_id, CommandStatus.delivered)
    finally:
        stop.set()
        await asyncio.wait_for(running, TIMEOUT_S)
        await consumer.stop()
        await producer.stop()
        await proxy.cut()

    # Nothing lost, in order; a command in flight at the cut may come twice (at least once).
    first_seen = list(dict.fromkeys(message["request_id"] for message in received))
    assert first_seen == [command.request_id for command in during]


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b'{"request_id": "r", "status": "succeeded"}', ("r", "succeeded", None)),
        (b'{"request_id": "r", "success": false, "detail": "d"}', ("r", "failed", "d")),
        (b'{"request_id": "r", "status": "failed", "success": true}', ("r", "failed", None)),
        (b'{"request_id": "r", "success": true, "extra": [1]}', ("r", "succeeded", None)),
    ],
)
def test_device_replies_that_keep_the_contract(
    payload: bytes, expected: tuple[str, str, str | None]
) -> None:
    reply = parse_reply(payload)
    assert (reply.request_id, reply.status, reply.detail) == expected


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"", "not JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"request_id": "r", "status": "done"}', "status"),
        (b'{"request_id": "r", "success": "yes"}', "status"),
        (b'{"request_id": "", "success": true}', "request_id"),
        (b'{"success": true}', "request_id"),
    ],
)
def test_device_replies_that_break_the_contract_say_why(payload: bytes, reason: str) -> None:
    with pytest.raises(InvalidReplyError, match=reason):
        parse_reply(payload)


@pytest.mark.parametrize(
    "topic",
    ["devices/a/b/responses", "devices//responses", "things/a/responses", "devices/a b/responses"],
)
def test_replies_on_foreign_topics_are_refused(topic: str) -> None:
    with pytest.raises(InvalidReplyError):
        device_id_from_responses_topic(topic)


async def test_commands_written_while_the_connector_lost_kafka_are_delivered_after_it_returns(
    dev_broker: DevBroker,
) -> None:
    """The connector reaches Kafka through a proxy that is cut; the broker keeps its data."""
    with KafkaProxy(dev_broker.bootstrap_servers) as proxy:
        settings = connector_settings(dev_broker.bootstrap_servers)
        through_proxy = settings.model_copy(
            update={"kafka_bootstrap_servers": proxy.bootstrap_servers}
        )
        stop = asyncio.Event()
        running = asyncio.create_task(MqttConnector(through_proxy).run(stop))
        producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
        consumer = AIOKafkaConsumer(
            settings.kafka_status_topic,
            bootstrap_servers=settings.kafka_bootstrap_servers,
            auto_offset_reset="earliest",
        )
        await producer.start()
        await consumer.start()
        try:
            commands = CommandWriter(producer, settings.kafka_command_topic)
            statuses = StatusReader(consumer)
            async with device() as dev:
                before = await commands.send(dev.device_id)
                await statuses.wait_for(before.request_id, CommandStatus.delivered, timeout=60)
                await dev.next_command()

                await asyncio.to_thread(proxy.cut)
                during = [await commands.send(dev.device_id, payload={"n": n}) for n in range(3)]
                await asyncio.sleep(1.0)
                await asyncio.to_thread(proxy.restore)

                received = [body(await dev.next_command()) for _ in during]
                for command in during:
                    await statuses.wait_for(command.request_id, CommandStatus.delivered, timeout=60)
        finally:
            stop.set()
            await asyncio.wait_for(running, 60)
            await consumer.stop()
            await producer.stop()

    first_seen = list(dict.fromkeys(message["request_id"] for message in received))
    assert first_seen == [command.request_id for command in during]
