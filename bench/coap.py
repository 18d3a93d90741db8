"""Benchmark: a sleepy device's check-in at the CoAP connector against a bare CoAP server.

What a battery device pays is the time its radio stays on, so the figure is the latency of one
check-in (one GET, answer received), sequential, and the check-ins per second with CLIENTS in
flight. Three cases, taking turns within each of REPEATS rounds, medians shown:

(a) the connector (`pusher-api connector coap` as users run it, its own process): each check-in
    hands one queued command over (cancel topic caught up, claim in SQLite with fsync, the
    `delivered` record acknowledged by Kafka, the answer);
(b) the connector, check-ins with nothing due (an indexed read, the empty answer);
(c) the floor: a bare aiocoap server (its own process) answering the same GET with a command
    list of the same size from memory.

The broker is the librdkafka mock cluster in its own process. The client is one aiocoap context
over UDP on loopback.

    uv run python bench/coap.py
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import aiocoap
import aiocoap.error
import orjson
from aiocoap import Code, Message, resource
from aiokafka import AIOKafkaProducer
from pusher_api.dev_broker import DevBroker
from pusher_api.messages import DeviceCommand

REPEATS = 3
DEVICES = 300  # check-ins per case and round
CLIENTS = 20
PAYLOAD = {"measurement_period_s": 300, "thresholds": [12.5, 30.0]}


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _command(device_id: str) -> DeviceCommand:
    return DeviceCommand(
        request_id=str(uuid.uuid4()),
        timestamp=datetime.now(UTC),
        device_id=device_id,
        command_type="set_config",
        payload=PAYLOAD,
        protocol="coap",
    )


class _Floor(resource.Resource, resource.PathCapable):  # type: ignore[misc]
    """Answers every GET with a one-command list built once."""

    def __init__(self) -> None:
        super().__init__()
        document = orjson.loads(_command("floor").kafka_value())
        keys = ("request_id", "command_type", "payload", "timestamp", "expires_at")
        self._answer = orjson.dumps([{k: document.get(k) for k in keys}])

    async def render(self, request: Message) -> Message:
        return Message(code=Code.CONTENT, payload=self._answer, content_format=50)


async def _serve_floor(port: int) -> None:
    site = resource.Site()
    site.add_resource(["devices"], _Floor())
    await aiocoap.Context.create_server_context(site, bind=("127.0.0.1", port), transports=["udp6"])
    await asyncio.Event().wait()


async def _check_ins(
    client: aiocoap.Context, port: int, devices: list[str], clients: int
) -> tuple[list[float], float, int]:
    """Latencies (s), check-ins per second, and how many answers held a command."""
    latencies: list[float] = []
    handed = 0
    queue = list(devices)

    async def worker() -> None:
        nonlocal handed
        while queue:
            device_id = queue.pop()
            started = time.perf_counter()
            message = Message(
                code=Code.GET, uri=f"coap://127.0.0.1:{port}/devices/{device_id}/commands"
            )
            response = await client.request(message).response
            latencies.append(time.perf_counter() - started)
            assert response.code == Code.CONTENT, response
            handed += len(orjson.loads(response.payload))

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return latencies, len(devices) / (time.perf_counter() - started), handed


async def _queue_commands(servers: str, topic: str, devices: list[str]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=servers, acks="all")
    await producer.start()
    try:
        for device_id in devices:
            command = _command(device_id)
            await producer.send(topic, command.kafka_value(), key=command.kafka_key())
        await producer.flush()
    finally:
        await producer.stop()


async def _wait_until_answering(client: aiocoap.Context, port: int) -> None:
    """Both servers answer a check-in (the connector after its imports and group join)."""
    async with asyncio.timeout(90):
        while True:
            message = Message(code=Code.GET, uri=f"coap://127.0.0.1:{port}/devices/ready/commands")
            try:
                await client.request(message).response
                return
            except aiocoap.error.NetworkError:
                await asyncio.sleep(0.5)


async def _measure(servers: str, topic: str, connector: int, floor: int) -> dict[str, list[float]]:
    client = await aiocoap.Context.create_client_context(transports=["udp6"])
    figures: dict[str, list[float]] = {}
    try:
        for port in (connector, floor):
            await _wait_until_answering(client, port)
        await asyncio.sleep(5.0)  # the connector's consumer joins its group after it answers
        for round_number in range(REPEATS):
            for clients in (1, CLIENTS):
                devices = [f"bench-{round_number}-{clients}-{n}" for n in range(DEVICES)]
                await _queue_commands(servers, topic, devices)
                await asyncio.sleep(2.0)  # queued by the connector (checked below)
                cases = {
                    "connector, one command handed over": (connector, devices, DEVICES),
                    "connector, nothing due": (connector, devices, 0),
                    "floor: bare aiocoap server": (floor, devices, DEVICES),
                }
                for name, (port, ids, expected) in cases.items():
                    latencies, rate, handed = await _check_ins(client, port, list(ids), clients)
                    assert handed == expected, f"{name}: {handed} of {expected} handed over"
                    if clients == 1:
                        figures.setdefault(f"{name}: median ms", []).append(
                            statistics.median(latencies) * 1000
                        )
                        figures.setdefault(f"{name}: p99 ms", []).append(
                            statistics.quantiles(latencies, n=100)[98] * 1000
                        )
                    else:
                        figures.setdefault(f"{name}: check-ins/s ({CLIENTS} in flight)", []).append(
                            rate
                        )
    finally:
        await client.shutdown()
    return figures


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--floor":
        asyncio.run(_serve_floor(int(sys.argv[2])))
        return
    suffix = uuid.uuid4().hex[:8]
    topic = f"bench-coap-{suffix}"
    connector_port, floor_port = _free_udp_port(), _free_udp_port()
    with DevBroker() as broker, tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
            "KAFKA_COMMAND_TOPIC": topic,
            "KAFKA_STATUS_TOPIC": f"{topic}-status",
            "KAFKA_CANCEL_TOPIC": f"{topic}-cancel",
            "KAFKA_CONNECTOR_GROUP": topic,
            "COAP_PORT": str(connector_port),
            "COAP_QUEUE_FILE": str(Path(tmp) / "queue.db"),
            "LOG_LEVEL": "WARNING",
        }
        cli = str(Path(sys.executable).parent / "pusher-api")
        connector = subprocess.Popen([cli, "connector", "coap"], env=env)
        floor = subprocess.Popen([sys.executable, __file__, "--floor", str(floor_port)])
        try:
            figures = asyncio.run(
                _measure(broker.bootstrap_servers, topic, connector_port, floor_port)
            )
        finally:
            for process in (connector, floor):
                process.terminate()
                process.wait(30)
    print(f"{DEVICES} check-ins per case, {REPEATS} rounds, medians:")
    for name, values in figures.items():
        print(f"  {name:<72} {statistics.median(values):10.1f}")


if __name__ == "__main__":
    main()
