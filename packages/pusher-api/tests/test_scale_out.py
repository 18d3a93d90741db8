"""Three replicas of the service on one PostgreSQL and one broker, two MQTT connectors in one
consumer group, 10,000 commands spread over the replicas: each is on the topic exactly once,
reaches its device, and its final state is the same on every replica; an event stream on one
replica follows commands sent through the others.

Every part runs as users run it: the replicas are `pusher-api serve` processes, the connectors
`pusher-api connector mqtt` processes, the devices one MQTT client on Mosquitto playing them all
(it answers every command). `SCALE_OUT_COMMANDS` changes the number of commands.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import IO

import aiomqtt
import httpx
import pytest
from pusher_api.connector.settings import MqttConnectorSettings
from pusher_api.dev_broker import DevBroker
from pusher_api.testing.kafka import read_topic
from pusher_api.testing.server import free_port

from .conftest import command
from .connector_harness import MQTT_HOST, MQTT_PORT, connector_settings, running_connector
from .test_events import event_stream

pytestmark = [pytest.mark.postgres, pytest.mark.kafka, pytest.mark.mqtt]

REPLICAS = 3
CONNECTORS = 2
COMMANDS = int(os.environ.get("SCALE_OUT_COMMANDS", "10000"))
BATCH = 100
FINAL_WITHIN_S = 600.0
"""How long the commands may take to reach their final state on every replica (a busy 2-core
machine moves ~50 commands per second end to end, a quiet one several hundred)."""


@contextlib.contextmanager
def replica(settings: MqttConnectorSettings, database_url: str) -> Iterator[str]:
    """One replica: a `pusher-api serve` process on a port of its own; yields its base URL once
    it answers /health with Kafka connected. Stopped with SIGTERM, which must end it cleanly."""
    port = free_port()
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "KAFKA_COMMAND_TOPIC": settings.kafka_command_topic,
        "KAFKA_STATUS_TOPIC": settings.kafka_status_topic,
        "KAFKA_CANCEL_TOPIC": settings.kafka_cancel_topic,
        # The replicas of this test form a status group of their own.
        "KAFKA_STATUS_GROUP": f"status-{settings.kafka_status_topic}",
        "DATABASE_URL": database_url,
        "API_KEYS": "",
        "LOG_LEVEL": "INFO",
    }
    serve = [str(Path(sys.executable).parent / "pusher-api"), "serve", "--port", str(port)]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(serve, env=env, stdout=log, stderr=subprocess.STDOUT)
        base_url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 300  # a loaded machine takes minutes to start three
            while True:
                assert process.poll() is None, _output(log)
                assert time.monotonic() < deadline, _output(log)
                with contextlib.suppress(httpx.HTTPError, ValueError):
                    if httpx.get(f"{base_url}/health", timeout=2).json().get("kafka_connected"):
                        break
                time.sleep(0.2)
            yield base_url
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        # uvicorn ends with the signal it was stopped by
        assert process.returncode in (0, -signal.SIGTERM), _output(log)


def _output(log: IO[bytes]) -> str:
    log.seek(0)
    return log.read().decode(errors="replace")[-5000:]


@contextlib.asynccontextmanager
async def devices_that_answer() -> AsyncIterator[set[str]]:
    """One MQTT client playing every device: it answers each command with success."""
    answered: set[str] = set()
    async with aiomqtt.Client(MQTT_HOST, MQTT_PORT, protocol=aiomqtt.ProtocolVersion.V5) as mqtt:
        prefix = f"scale-{uuid.uuid4().hex[:6]}"
        await mqtt.subscribe("devices/+/commands", qos=1)

        replies: set[asyncio.Task[None]] = set()

        async def answer() -> None:
            async for message in mqtt.messages:
                device_id = message.topic.value.split("/")[1]
                if not device_id.startswith(prefix):
                    continue  # another test's device
                assert isinstance(message.payload, bytes)
                request_id = json.loads(message.payload)["request_id"]
                answered.add(request_id)
                reply = {"request_id": request_id, "status": "succeeded"}
                # Not awaited one by one: devices answer at once, not one broker round trip
                # after the other.
                sending = asyncio.create_task(
                    mqtt.publish(f"devices/{device_id}/responses", json.dumps(reply), qos=1)
                )
                replies.add(sending)
                sending.add_done_callback(replies.discard)

        task = asyncio.create_task(answer())
        answered.add(prefix)  # the prefix the devices' ids must start with
        try:
            yield answered
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


@pytest.mark.timeout(1800)
async def test_three_replicas_serve_as_one(dev_broker: DevBroker, postgres_url: str) -> None:
    settings = connector_settings(dev_broker.bootstrap_servers)
    begun = time.monotonic()
    with contextlib.ExitStack() as stack:
        # The connectors start together, so both join the connector group's first generation;
        # then the replicas, together, so they form the status group's first generation. (All
        # five at once overloads a busy 2-core machine: a connector then missed its group's
        # first generation and had not joined after 3 minutes.)
        delivered_by: list[int] = []  # commands each connector delivered, when it stopped
        await asyncio.gather(
            *(
                asyncio.to_thread(stack.enter_context, running_connector(settings, delivered_by))
                for _ in range(CONNECTORS)
            )
        )
        urls = await asyncio.gather(
            *(
                asyncio.to_thread(stack.enter_context, replica(settings, postgres_url))
                for _ in range(REPLICAS)
            )
        )
        print(f"replicas up after {time.monotonic() - begun:.1f} s")
        async with devices_that_answer() as answered, contextlib.AsyncExitStack() as clients:
            prefix = next(iter(answered))
            https = [
                await clients.enter_async_context(httpx.AsyncClient(base_url=url, timeout=60))
                for url in urls
            ]
            watched = f"{prefix}-watched"
            async with event_stream(https[0], f"/api/v1/devices/{watched}/events") as device_events:
                started = time.monotonic()
                in_flight = asyncio.Semaphore(2 * REPLICAS)  # two senders per replica

                async def send_batch(n: int) -> httpx.Response:
                    async with in_flight:
                        return await https[n % REPLICAS].post(
                            "/api/v1/commands/batch",
                            json={
                                "commands": [
                                    command(device_id=f"{prefix}-{(n * BATCH + i) % 200}")
                                    for i in range(BATCH)
                                ]
                            },
                        )

                answers = await asyncio.gather(*(send_batch(n) for n in range(COMMANDS // BATCH)))
                assert [a.status_code for a in answers] == [202] * (COMMANDS // BATCH), [
                    a.text for a in answers if a.status_code != 202
                ][:3]
                print(f"batches answered after {time.monotonic() - started:.1f} s")
                sent_through_others = [
                    (
                        await https[1 + n % 2].post(
                            "/api/v1/commands", json=command(device_id=watched)
                        )
                    ).json()
                    for n in range(4)
                ]
                print(f"singles answered after {time.monotonic() - started:.1f} s")
                accepted = {
                    result["request_id"]
                    for answer in answers
                    for result in answer.json()["results"]
                }
                # the final state, on every replica
                deadline = time.monotonic() + FINAL_WITHIN_S
                while True:
                    counts = [
                        (await http.get("/api/v1/status")).json()["commands_by_status"]
                        for http in https
                    ]
                    if all(c.get("succeeded") == COMMANDS + 4 for c in counts):
                        break
                    assert time.monotonic() < deadline, counts
                    print(f"{time.monotonic() - started:.1f} s {counts}")
                    await asyncio.sleep(2.0)
                elapsed = time.monotonic() - started
                followed = []
                wanted = {(p["request_id"], "succeeded") for p in sent_through_others}
                while not wanted <= {
                    (e["data"]["request_id"], e["data"]["status"]) for e in followed
                }:
                    event = await device_events.next()
                    assert event is not None
                    followed.append(event)
            sample = sorted(accepted)[:: COMMANDS // 50]
            views = [
                [(await http.get(f"/api/v1/commands/{rid}/status")).json() for rid in sample]
                for http in https
            ]
            async with event_stream(
                https[2], f"/api/v1/commands/{sent_through_others[0]['request_id']}/events"
            ) as one_command:
                final_elsewhere = await one_command.next()
        records = await read_topic(settings.kafka_bootstrap_servers, settings.kafka_command_topic)

    assert [answer.status_code for answer in answers] == [202] * (COMMANDS // BATCH)
    assert len(accepted) == COMMANDS
    on_topic = [json.loads(r.value)["request_id"] for r in records]
    ours = [rid for rid in on_topic if rid in accepted]
    assert len(ours) == COMMANDS  # each exactly once
    assert set(ours) == accepted
    assert accepted <= answered  # every command reached its device
    assert all(c == {"succeeded": COMMANDS + 4} for c in counts)
    for replica_views in views:
        assert [v["status"] for v in replica_views] == ["succeeded"] * len(sample)
    assert views[0] == views[1] == views[2]
    statuses = [(e["data"]["request_id"], e["data"]["status"]) for e in followed]
    for posted in sent_through_others:  # each change once, in lifecycle order
        mine = [status for rid, status in statuses if rid == posted["request_id"]]
        assert mine == ["sent", "delivered", "succeeded"]
    # both connectors had a share of the commands (warm-ups included)
    assert len(delivered_by) == CONNECTORS
    assert all(count > COMMANDS // 10 for count in delivered_by), delivered_by
    assert sum(delivered_by) >= COMMANDS + 4
    assert final_elsewhere is not None
    assert final_elsewhere["data"]["status"] == "succeeded"
    print(
        f"\n{COMMANDS} commands through {REPLICAS} replicas and {CONNECTORS} connectors "
        f"({delivered_by} delivered) to their final state in {elapsed:.1f} s "
        f"({COMMANDS / elapsed:.0f} commands/s)"
    )
