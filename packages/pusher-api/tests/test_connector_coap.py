"""The CoAP connector against a real Kafka-protocol broker, with aiocoap clients and servers as
devices over UDP on loopback.

One connector serves the module (its own topics, group, queue file and a free port); each test
uses its own device ids. The restart test runs connectors of its own on one queue file.
"""

from __future__ import annotations

import asyncio
import socket
import statistics
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cbor2
import orjson
import pytest
from aiocoap import Code
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from pusher_api.cli import app as cli
from pusher_api.connector.cancellations import CancellationView
from pusher_api.connector.settings import CoapConnectorSettings
from pusher_api.dev_broker import DevBroker
from pusher_api.messages import CommandCancellation, CommandStatus, DeviceCommand
from pusher_api.testing.kafka import read_topic
from typer.testing import CliRunner

from .coap_harness import (
    CoapDevice,
    coap_connector_in_thread,
    coap_settings,
    listening_device,
    listening_device_in_thread,
)
from .conftest import RunningApi
from .connector_harness import CommandWriter, StatusReader

pytestmark = [pytest.mark.kafka]

MAX_QUEUED = 3

Cancel = Callable[[DeviceCommand], Awaitable[None]]


@pytest.fixture(scope="module")
def settings(
    dev_broker: DevBroker, tmp_path_factory: pytest.TempPathFactory
) -> CoapConnectorSettings:
    queue_file = tmp_path_factory.mktemp("coap") / "queue.db"
    return coap_settings(dev_broker.bootstrap_servers, queue_file, coap_max_queued=MAX_QUEUED)


@pytest.fixture(scope="module")
def port(settings: CoapConnectorSettings) -> Iterator[int]:
    with coap_connector_in_thread(settings) as serving_port:
        yield serving_port


@pytest.fixture
async def commands(settings: CoapConnectorSettings) -> AsyncIterator[CommandWriter]:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all")
    await producer.start()
    yield CommandWriter(producer, settings.kafka_command_topic)
    await producer.stop()


@pytest.fixture
async def statuses(settings: CoapConnectorSettings) -> AsyncIterator[StatusReader]:
    consumer = AIOKafkaConsumer(
        settings.kafka_status_topic,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    yield StatusReader(consumer)
    await consumer.stop()


@pytest.fixture
async def device() -> AsyncIterator[CoapDevice]:
    async with CoapDevice.client() as client:
        yield client


def new_device_id() -> str:
    return f"coap-{uuid.uuid4().hex[:10]}"


def document(command: DeviceCommand) -> dict[str, object]:
    """What the MQTT connector sends for the same command (its device contract)."""
    return {
        "request_id": command.request_id,
        "command_type": command.command_type,
        "payload": command.payload,
        "timestamp": command.timestamp.isoformat().replace("+00:00", "Z"),
        "expires_at": None
        if command.expires_at is None
        else command.expires_at.isoformat().replace("+00:00", "Z"),
    }


async def check_in_until(
    device: CoapDevice, port: int, device_id: str, count: int
) -> list[dict[str, object]]:
    """Check in until ``count`` commands were handed over (the connector queues them a moment
    after they reach Kafka)."""
    received: list[dict[str, object]] = []
    async with asyncio.timeout(20):
        while len(received) < count:
            received += await device.check_in(port, device_id)
            await asyncio.sleep(0.05)
    return received


async def test_check_in_hands_over_due_commands_oldest_first_then_an_empty_list(
    port: int, commands: CommandWriter, statuses: StatusReader, device: CoapDevice
) -> None:
    device_id = new_device_id()
    sent = [
        await commands.send(device_id, protocol="coap", payload={"step": step}) for step in (1, 2)
    ]
    received = await check_in_until(device, port, device_id, 2)
    for command in sent:
        await statuses.wait_for(command.request_id, CommandStatus.delivered)

    assert received == [document(command) for command in sent]
    assert await device.check_in(port, device_id) == []  # handed over once


async def test_uplink_is_answered_with_the_commands(
    port: int, commands: CommandWriter, statuses: StatusReader, device: CoapDevice
) -> None:
    device_id = new_device_id()
    sent = await commands.send(device_id, protocol="coap")
    async with asyncio.timeout(20):
        while True:
            answer = await device.request(
                Code.POST, port, f"/devices/{device_id}/uplink", b'{"t": 21.5}'
            )
            assert answer.code == Code.CHANGED
            if handed := orjson.loads(answer.payload):
                break
            await asyncio.sleep(0.05)
    assert handed == [document(sent)]
    await statuses.wait_for(sent.request_id, CommandStatus.delivered)


async def test_results_end_the_command_and_strangers_change_nothing(
    port: int, commands: CommandWriter, statuses: StatusReader, device: CoapDevice
) -> None:
    device_id, other_device = new_device_id(), new_device_id()
    ok, broken = [await commands.send(device_id, protocol="coap") for _ in range(2)]
    await check_in_until(device, port, device_id, 2)

    forged = await device.result(
        port, other_device, {"request_id": ok.request_id, "success": False}
    )
    unknown = await device.result(port, device_id, {"request_id": "nope", "status": "failed"})
    bad = await device.result(port, device_id, {"request_id": ok.request_id, "status": "done"})
    assert (forged.code, unknown.code, bad.code) == (
        Code.FORBIDDEN,
        Code.NOT_FOUND,
        Code.BAD_REQUEST,
    )
    assert b"succeeded" in bad.payload  # the diagnostic says what the contract expects

    answered = await device.result(
        port, device_id, {"request_id": ok.request_id, "status": "succeeded"}
    )
    assert answered.code == Code.CHANGED
    failed = await device.result(
        port, device_id, {"request_id": broken.request_id, "success": False, "detail": "no disk"}
    )
    assert failed.code == Code.CHANGED

    await statuses.wait_for(ok.request_id, CommandStatus.succeeded)
    report = await statuses.wait_for(broken.request_id, CommandStatus.failed)
    assert report.detail == "no disk"
    assert report.device_id == device_id
    # The forged result (another device, "success": false) never became a report.
    assert statuses.of(ok.request_id) == [CommandStatus.delivered, CommandStatus.succeeded]


async def test_command_whose_device_never_checks_in_expires_and_is_never_handed_over(
    port: int, commands: CommandWriter, statuses: StatusReader, device: CoapDevice
) -> None:
    device_id = new_device_id()
    soon = await commands.send(
        device_id, protocol="coap", expires_at=datetime.now(UTC) + timedelta(seconds=1.5)
    )
    stale = await commands.send(
        device_id, protocol="coap", expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    report = await statuses.wait_for(soon.request_id, CommandStatus.expired)
    stale_report = await statuses.wait_for(stale.request_id, CommandStatus.expired)

    assert await device.check_in(port, device_id) == []
    assert statuses.of(soon.request_id) == [CommandStatus.expired]
    assert report.detail in (  # queued then swept, or (on a slow machine) expired on arrival
        "expires_at passed before the command reached the device",
        f"expired at {soon.expires_at.isoformat()} before it reached the connector",
    )
    assert stale_report.detail is not None
    assert "before it reached the connector" in stale_report.detail


async def test_full_queue_and_unknown_encoder_fail_the_command_with_a_reason(
    port: int, commands: CommandWriter, statuses: StatusReader, device: CoapDevice
) -> None:
    device_id = new_device_id()
    unknown = await commands.send(
        device_id, protocol="coap", parser_script_ref="efento_bidirectional_parser.py"
    )
    queued = [await commands.send(device_id, protocol="coap") for _ in range(MAX_QUEUED)]
    overflow = await commands.send(device_id, protocol="coap")

    full = await statuses.wait_for(overflow.request_id, CommandStatus.failed)
    refused = await statuses.wait_for(unknown.request_id, CommandStatus.failed)
    assert full.detail is not None
    assert full.detail.startswith("device queue full")
    assert refused.detail is not None
    assert "unknown parser_script_ref 'efento_bidirectional_parser.py'" in refused.detail
    assert "cbor, json" in refused.detail
    handed = await check_in_until(device, port, device_id, MAX_QUEUED)
    assert [c["request_id"] for c in handed] == [c.request_id for c in queued]


async def test_cbor_encoded_command_decodes_to_the_same_document(
    port: int, commands: CommandWriter, statuses: StatusReader, device: CoapDevice
) -> None:
    device_id = new_device_id()
    payload = {"interval_s": 60, "ratio": 0.25, "tags": ["a", "b"], "nested": {"on": True}}
    sent = await commands.send(
        device_id, protocol="coap", parser_script_ref="cbor", payload=payload
    )
    async with asyncio.timeout(20):
        while True:
            answer = await device.request(Code.GET, port, f"/devices/{device_id}/commands")
            if answer.content_format == 60:
                break
            assert orjson.loads(answer.payload) == []  # nothing due yet: an empty JSON list
            await asyncio.sleep(0.05)

    assert cbor2.loads(answer.payload) == [document(sent)]
    assert cbor2.loads(answer.payload)[0]["payload"] == payload
    # A CBOR result is read into the same contract.
    result = await device.request(
        Code.POST,
        port,
        f"/devices/{device_id}/responses",
        cbor2.dumps({"request_id": sent.request_id, "success": True}),
        content_format=60,
    )
    assert result.code == Code.CHANGED
    await statuses.wait_for(sent.request_id, CommandStatus.succeeded)


async def test_4_kib_payload_arrives_whole_block_wise(
    port: int, commands: CommandWriter, statuses: StatusReader, device: CoapDevice
) -> None:
    device_id = new_device_id()
    blob = "".join(f"{n:04d}" for n in range(1024))  # 4 KiB, every block different
    sent = await commands.send(device_id, protocol="coap", payload={"blob": blob})
    received = await check_in_until(device, port, device_id, 1)
    assert received == [document(sent)]
    assert len(orjson.dumps(received)) > 4096


async def test_push_to_a_listening_device(
    port: int, commands: CommandWriter, statuses: StatusReader
) -> None:
    device_id = new_device_id()  # one device: its pushes go one after the other, in order
    blob = "".join(f"{n:04d}" for n in range(1024))
    async with listening_device() as listener:
        push = {"protocol": "coap", "metadata": {"coap_uri": listener.uri()}}
        ok = await commands.send(device_id, payload={"blob": blob}, **push)
        message = await listener.next_command()
        await statuses.wait_for(ok.request_id, CommandStatus.succeeded)

        listener.code = Code.SERVICE_UNAVAILABLE
        refused = await commands.send(device_id, **push)
        await listener.next_command()
        failed = await statuses.wait_for(refused.request_id, CommandStatus.failed)

        listener.code = Code.CHANGED
        unconfirmed = await commands.send(
            device_id, confirmable=False, parser_script_ref="cbor", **push
        )
        non = await listener.next_command()
        after = await commands.send(device_id, **push)
        await listener.next_command()
        await statuses.wait_for(after.request_id, CommandStatus.succeeded)

    assert message.mtype.name == "CON"
    assert orjson.loads(message.payload) == document(ok)  # 4 KiB, block-wise, whole
    assert statuses.of(ok.request_id) == [CommandStatus.delivered, CommandStatus.succeeded]
    assert failed.detail == "the device answered 5.03 Service Unavailable: busy"
    assert statuses.of(refused.request_id) == [CommandStatus.delivered, CommandStatus.failed]
    assert non.mtype.name == "NON"
    assert non.opt.content_format == 60
    assert cbor2.loads(non.payload) == document(unconfirmed)
    # The device's reports are in order on its partition: none came for the NON.
    assert statuses.of(unconfirmed.request_id) == []


async def test_push_without_an_ack_fails_with_no_answer(
    port: int, settings: CoapConnectorSettings, commands: CommandWriter, statuses: StatusReader
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:  # receives, never answers
        silent.bind(("127.0.0.1", 0))
        silent.setblocking(False)
        uri = f"coap://127.0.0.1:{silent.getsockname()[1]}/cmd"
        sent = await commands.send(new_device_id(), protocol="coap", metadata={"coap_uri": uri})
        report = await statuses.wait_for(sent.request_id, CommandStatus.failed)
        datagrams = 0
        while True:
            try:
                silent.recv(2048)
            except BlockingIOError:
                break
            datagrams += 1

    assert report.detail == f"no answer from {uri} within {settings.max_transmit_wait_s:g} s"
    assert datagrams == 1 + settings.coap_max_retransmit  # sent, then retransmitted
    assert statuses.of(sent.request_id) == [CommandStatus.failed]

    # The port is closed now: the host says so at once (ICMP), and the detail says that.
    refused = await commands.send(new_device_id(), protocol="coap", metadata={"coap_uri": uri})
    closed = await statuses.wait_for(refused.request_id, CommandStatus.failed)
    assert closed.detail is not None
    assert closed.detail.startswith(f"no answer from {uri}: [Errno 111] Connection refused")


def test_queued_commands_survive_a_connector_restart(dev_broker: DevBroker, tmp_path: Path) -> None:
    settings = coap_settings(dev_broker.bootstrap_servers, tmp_path / "queue.db")
    device_id, listening_id = new_device_id(), new_device_id()
    with listening_device_in_thread() as (listener, listener_loop):
        with coap_connector_in_thread(settings):
            sent = asyncio.run(_send_and_wait_until_committed(settings, device_id))
            # Held back past the restart: pushed by the next connector once due.
            # Due after the first connector stopped, before the second serves (its group
            # join alone takes longer), so the second one pushes it.
            due_at = datetime.now(UTC) + timedelta(seconds=6)
            held = asyncio.run(
                _send_and_wait_until_committed(
                    settings,
                    listening_id,
                    metadata={"coap_uri": listener.uri()},
                    not_before=due_at,
                )
            )
        assert listener.received_at == []  # the first connector stopped before it was due
        # Stopped before the device woke; a new connector on the same file hands it over.
        with coap_connector_in_thread(settings) as port:
            received = asyncio.run(_check_in_once_queued(port, device_id))
            pushed = asyncio.run_coroutine_threadsafe(listener.next_command(), listener_loop)
            message = pushed.result(timeout=30)
    assert received == [document(sent)]
    assert orjson.loads(message.payload) == document(held)
    assert listener.received_at[0] >= due_at.timestamp()


async def _check_in_once_queued(port: int, device_id: str) -> list[dict[str, object]]:
    async with CoapDevice.client() as device:
        return await check_in_until(device, port, device_id, 1)


async def _send_and_wait_until_committed(
    settings: CoapConnectorSettings, device_id: str, **fields: Any
) -> DeviceCommand:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all")
    await producer.start()
    try:
        writer = CommandWriter(producer, settings.kafka_command_topic)
        command = await writer.send(device_id, protocol="coap", **fields)
    finally:
        await producer.stop()
    await _wait_until_committed(settings, command)
    return command


async def _wait_until_committed(settings: CoapConnectorSettings, command: DeviceCommand) -> None:
    """The connector commits a command's offset only once it is in the queue file."""
    topic = settings.kafka_command_topic
    records = await read_topic(settings.kafka_bootstrap_servers, topic)
    (record,) = [r for r in records if r.key == command.kafka_key()]
    probe = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=settings.kafka_connector_group,
        enable_auto_commit=False,
    )
    await probe.start()
    try:
        async with asyncio.timeout(20):
            while (await probe.committed(TopicPartition(topic, record.partition)) or 0) <= (
                record.offset
            ):
                await asyncio.sleep(0.1)
    finally:
        await probe.stop()


async def test_not_before_holds_a_command_back_until_it_is_due(
    port: int, commands: CommandWriter, statuses: StatusReader, device: CoapDevice
) -> None:
    """The service publishes a command when it is due; a connector whose clock is behind the
    service's still holds it until ``not_before`` (here: published early on purpose)."""
    device_id = new_device_id()
    due_at = datetime.now(UTC) + timedelta(seconds=1.5)
    command = await commands.send(device_id, protocol="coap", not_before=due_at)
    await asyncio.sleep(0.5)  # queued by now, but not due
    assert await device.check_in(port, device_id) == []

    received = await check_in_until(device, port, device_id, 1)
    assert datetime.now(UTC) >= due_at
    assert received == [document(command)]
    await statuses.wait_for(command.request_id, CommandStatus.delivered)


def test_cli_refuses_a_bad_setting_in_one_line() -> None:
    result = CliRunner().invoke(cli, ["connector", "coap", "--coap-port", "70000"])
    assert result.exit_code == 2
    assert "Invalid setting COAP_PORT" in result.output
    assert "Traceback" not in result.output


@pytest.fixture
async def cancel(settings: CoapConnectorSettings) -> AsyncIterator[Cancel]:
    """Writes cancellation records as the service does for a command already on Kafka."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all")
    await producer.start()

    async def write(command: DeviceCommand) -> None:
        record = CommandCancellation(request_id=command.request_id, device_id=command.device_id)
        await producer.send_and_wait(
            settings.kafka_cancel_topic, record.kafka_value(), key=record.kafka_key()
        )

    yield write
    await producer.stop()


async def test_a_cancelled_command_is_never_handed_over(
    port: int,
    commands: CommandWriter,
    statuses: StatusReader,
    device: CoapDevice,
    cancel: Cancel,
) -> None:
    device_id = new_device_id()
    waiting = await commands.send(device_id, protocol="coap")
    kept = await commands.send(device_id, protocol="coap")
    await asyncio.sleep(0.3)  # queued, waiting for the device
    await cancel(waiting)
    report = await statuses.wait_for(waiting.request_id, CommandStatus.cancelled)

    # The cancellation is on Kafka before the command reaches the queue.
    early_id = str(uuid.uuid4())
    await cancel(
        DeviceCommand(
            request_id=early_id, timestamp=datetime.now(UTC), device_id=device_id, command_type="x"
        )
    )
    early = await commands.send(device_id, protocol="coap", request_id=early_id)
    await statuses.wait_for(early.request_id, CommandStatus.cancelled)

    handed = await check_in_until(device, port, device_id, 1)
    assert [c["request_id"] for c in handed] == [kept.request_id]
    assert report.detail == "cancelled before it was handed to the device"
    assert statuses.of(waiting.request_id) == [CommandStatus.cancelled]

    await cancel(kept)  # after the hand-over: too late, the connector keeps its "delivered"
    later = await commands.send(device_id, protocol="coap")
    await check_in_until(device, port, device_id, 1)
    await statuses.wait_for(later.request_id, CommandStatus.delivered)
    assert statuses.of(kept.request_id) == [CommandStatus.delivered]


async def test_the_api_cancels_a_waiting_command_and_schedules_another(
    port: int,
    settings: CoapConnectorSettings,
    start_api: Callable[..., AbstractContextManager[RunningApi]],
    device: CoapDevice,
) -> None:
    device_id = new_device_id()
    topics = {
        "kafka_command_topic": settings.kafka_command_topic,
        "kafka_status_topic": settings.kafka_status_topic,
        "kafka_cancel_topic": settings.kafka_cancel_topic,
    }
    with start_api(**topics, schedule_interval_s=0.2) as api:
        async with api.client() as http:
            coap = {"device_id": device_id, "command_type": "reboot", "protocol": "coap"}
            posted = (await http.post("/api/v1/commands", json=coap)).json()
            due_at = datetime.now(UTC) + timedelta(seconds=1)
            scheduled = (
                await http.post("/api/v1/commands", json={**coap, "not_before": due_at.isoformat()})
            ).json()
            await asyncio.sleep(0.3)  # the first one waits in the connector's queue
            cancelled = await http.post(f"/api/v1/commands/{posted['request_id']}/cancel")
            handed = await check_in_until(device, port, device_id, 1)
            await device.result(
                port, device_id, {"request_id": scheduled["request_id"], "status": "succeeded"}
            )
            async with asyncio.timeout(10):
                while (
                    final := (
                        await http.get(f"/api/v1/commands/{scheduled['request_id']}/status")
                    ).json()
                )["status"] != "succeeded":
                    await asyncio.sleep(0.1)

    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert [c["request_id"] for c in handed] == [scheduled["request_id"]]
    assert datetime.now(UTC) >= due_at
    assert final["delivered_at"] >= final["not_before"]


async def test_catching_up_with_the_cancel_topic_does_not_wait_for_the_long_poll(
    dev_broker: DevBroker,
) -> None:
    """Every hand-over waits for `catch_up`: it must cost a round trip, not the reader's idle
    fetch (500 ms), which a request on the reader's own connection waits behind."""
    topic = f"cancel-{uuid.uuid4().hex[:8]}"
    async with CancellationView(dev_broker.bootstrap_servers, topic) as view:
        await asyncio.sleep(0.3)  # the reader is idle in a long poll now
        costs = []
        for _ in range(5):
            started = time.perf_counter()
            await view.catch_up()
            costs.append(time.perf_counter() - started)
            await asyncio.sleep(0.1)
    assert statistics.median(costs) < 0.25, costs
