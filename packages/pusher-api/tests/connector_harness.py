"""A harness for tests that need the MQTT connector: it run as users run it, devices played by
MQTT clients, command records written as the API writes them, status records read back."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiomqtt
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from pusher_api.connector.mqtt import MqttConnector
from pusher_api.connector.settings import MqttConnectorSettings
from pusher_api.messages import CommandStatus, DeviceCommand, StatusReport

MQTT_HOST = "127.0.0.1"
MQTT_PORT = 1883
TIMEOUT_S = 20.0


@contextlib.contextmanager
def run_mosquitto(conf: str, directory: Path) -> Iterator[int]:
    """A Mosquitto of its own with `conf` (written to `directory`) on a free loopback port.

    `conf` has no listener line: this adds one. It runs as root, because as root Mosquitto
    would switch to its own user, who cannot read pytest's private tmp dir.
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    path = directory / "mosquitto.conf"
    path.write_text(f"user root\nlistener {port} 127.0.0.1\n{conf}")
    process = subprocess.Popen(
        ["mosquitto", "-c", str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
                break
            assert process.poll() is None, f"mosquitto did not start with {path}"
            assert time.monotonic() < deadline, "mosquitto did not start"
            time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def connector_settings(bootstrap_servers: str) -> MqttConnectorSettings:
    """Settings with topics and a consumer group no other module uses."""
    suffix = uuid.uuid4().hex[:8]
    return MqttConnectorSettings(
        _env_file=None,  # type: ignore[call-arg]
        kafka_bootstrap_servers=bootstrap_servers,
        kafka_command_topic=f"commands-{suffix}",
        kafka_status_topic=f"status-{suffix}",
        kafka_cancel_topic=f"cancel-{suffix}",
        kafka_connector_group=f"connector-{suffix}",
        # Its own share group: replies never go to a connector of another test run.
        mqtt_share_group=f"connector-{suffix}",
        mqtt_host=MQTT_HOST,
        mqtt_port=MQTT_PORT,
    )


@contextlib.contextmanager
def running_connector(
    settings: MqttConnectorSettings, delivered: list[int] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """`pusher-api connector mqtt` as users run it, serving once this is entered.

    Share one per module: starting costs seconds (imports, a 3 s consumer group join). Stopped
    with SIGTERM at the end, which must end it cleanly, having delivered at least one command
    (the number it logs when it stops is appended to `delivered`). Its log goes to a file, not
    a pipe, so a chatty connector never blocks on a full pipe.
    """
    command = [
        str(Path(sys.executable).parent / "pusher-api"),
        "connector",
        "mqtt",
        "--mqtt-host",
        settings.mqtt_host,
        "--mqtt-port",
        str(settings.mqtt_port),
        "--bootstrap-servers",
        settings.kafka_bootstrap_servers,
        "--group",
        settings.kafka_connector_group,
    ]
    env = {
        **os.environ,
        "KAFKA_COMMAND_TOPIC": settings.kafka_command_topic,
        "KAFKA_STATUS_TOPIC": settings.kafka_status_topic,
        "KAFKA_CANCEL_TOPIC": settings.kafka_cancel_topic,
        "MQTT_SHARE_GROUP": settings.mqtt_share_group,
    }
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            try:
                asyncio.run(_wait_until_serving(settings))
            except TimeoutError:
                log.seek(0)
                raise AssertionError(
                    "the connector delivered no command in time:\n"
                    + log.read().decode(errors="replace")[-5000:]
                ) from None
            yield process
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        log.seek(0)
        output = log.read().decode(errors="replace")
    assert process.returncode == 0, output
    stopped = re.search(r"connector\.stopped .*delivered=(\d+)", output)
    assert stopped is not None, output
    assert int(stopped.group(1)) >= 1, output
    if delivered is not None:
        delivered.append(int(stopped.group(1)))


@contextlib.contextmanager
def connector_in_thread(settings: MqttConnectorSettings) -> Iterator[None]:
    """The same connector in a thread of this process, serving once this is entered.

    Starts faster than the CLI (no interpreter, no imports); the end-to-end tests run the CLI.
    Stopped the way SIGTERM stops it, and whatever ended it early is re-raised here.
    """
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    outcome: concurrent.futures.Future[None] = concurrent.futures.Future()

    def serve() -> None:
        try:
            loop.run_until_complete(MqttConnector(settings).run(stop))
            outcome.set_result(None)
        except BaseException as error:
            outcome.set_exception(error)
        finally:
            loop.close()

    thread = threading.Thread(target=serve, name="mqtt-connector", daemon=True)
    thread.start()
    try:
        asyncio.run(_wait_until_serving(settings))
        yield
    finally:
        with contextlib.suppress(RuntimeError):  # the loop already ended
            loop.call_soon_threadsafe(stop.set)
        thread.join(TIMEOUT_S)
    outcome.result(timeout=0)


async def _wait_until_serving(settings: MqttConnectorSettings) -> None:
    """Wait for one command to go all the way through: then the connector is serving."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
    consumer = AIOKafkaConsumer(
        settings.kafka_status_topic,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
    )
    await producer.start()
    await consumer.start()
    try:
        reader = StatusReader(consumer)
        command = await CommandWriter(producer, settings.kafka_command_topic).send("warm-up")
        # minutes on a loaded machine: interpreters starting, a consumer group forming
        await reader.wait_for(command.request_id, CommandStatus.delivered, timeout=180)
    finally:
        await consumer.stop()
        await producer.stop()


class CommandWriter:
    """Writes command records exactly as the API does (key, value, headers)."""

    def __init__(self, producer: AIOKafkaProducer, topic: str) -> None:
        self._producer = producer
        self._topic = topic

    async def send(self, device_id: str, **fields: Any) -> DeviceCommand:
        command = DeviceCommand(
            request_id=fields.pop("request_id", None) or str(uuid.uuid4()),
            timestamp=datetime.now(UTC),
            device_id=device_id,
            command_type=fields.pop("command_type", "reboot"),
            **fields,
        )
        await self._producer.send_and_wait(
            self._topic,
            value=command.kafka_value(),
            key=command.kafka_key(),
            headers=command.kafka_headers(),
        )
        return command

    async def partitions(self) -> set[int]:
        partitions: set[int] = await self._producer.partitions_for(self._topic)
        return partitions


class StatusReader:
    """Reads the status topic from its start and waits for a given report."""

    def __init__(self, consumer: AIOKafkaConsumer) -> None:
        self._consumer = consumer
        self.reports: list[StatusReport] = []
        self.keys: list[bytes | None] = []

    def of(self, request_id: str) -> list[CommandStatus]:
        return [r.status for r in self.reports if r.request_id == request_id]

    async def wait_for(
        self, request_id: str, status: CommandStatus, timeout: float = TIMEOUT_S
    ) -> StatusReport:
        async with asyncio.timeout(timeout):
            while True:
                for report in self.reports:
                    if report.request_id == request_id and report.status is status:
                        return report
                for records in (await self._consumer.getmany(timeout_ms=100)).values():
                    for record in records:
                        self.reports.append(StatusReport.from_kafka(record.value))
                        self.keys.append(record.key)


class Device:
    """A test MQTT client playing one device: receives its commands, sends replies."""

    def __init__(self, client: aiomqtt.Client, device_id: str) -> None:
        self.client = client
        self.device_id = device_id

    async def next_command(self) -> aiomqtt.Message:
        async with asyncio.timeout(TIMEOUT_S):
            return await anext(aiter(self.client.messages))

    async def reply(self, body: dict[str, Any] | bytes) -> None:
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        await self.client.publish(f"devices/{self.device_id}/responses", payload, qos=1)


@contextlib.asynccontextmanager
async def device(device_id: str | None = None) -> AsyncIterator[Device]:
    device_id = device_id or f"dev-{uuid.uuid4().hex[:10]}"
    async with aiomqtt.Client(MQTT_HOST, MQTT_PORT, protocol=aiomqtt.ProtocolVersion.V5) as client:
        # QoS 2 subscription: each message arrives with the QoS it was published with.
        await client.subscribe(f"devices/{device_id}/commands", qos=2)
        yield Device(client, device_id)


def body(message: aiomqtt.Message) -> dict[str, Any]:
    assert isinstance(message.payload, bytes)
    parsed: dict[str, Any] = json.loads(message.payload)
    return parsed
