"""Three replicas of the service on one PostgreSQL and one broker, two MQTT connectors in one
consumer group, 10,000 commands spread over the replicas: each is on the topic exactly once,
reaches its device, and its final state is the same on every replica; an event stream on one
replica follows commands sent through the others.

Every part runs as users run it: `pusher-api serve` and `pusher-api connector mqtt` processes,
Mosquitto, and one MQTT client playing all the devices (it answers every command).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

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
COMMANDS = 10_000
BATCH = 1000


@contextlib.contextmanager
def replica(settings: MqttConnectorSettings, database_url: str) -> Iterator[str]:
    """`pusher-api serve` on a free port; yields its base URL once it answers /health."""
    port = free_port()
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "KAFKA_COMMAND_TOPIC": settings.kafka_command_topic,
        "KAFKA_STATUS_TOPIC": settings.kafka_status_topic,
        "KAFKA_CANCEL_TOPIC": settings.kafka_cancel_topic,
        "DATABASE_URL": database_url,
        "API_KEYS": "",
        "LOG_LEVEL": "WARNING",
    }
    executable = str(Path(sys.executable).parent / "pusher-api")
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [executable, "serve", "--port", str(port)], env=env, stdout=log, stderr=log
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base_url}/health", timeout=1).json()["kafka_connected"]:
                        break
                except (httpx.HTTPError, ValueError):
                    pass
                assert process.poll() is None, "replica exited during startup"
                assert time.monotonic() < deadline, "replica did not start"
                time.sleep(0.2)
            yield base_url
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.seek(0)
            output = log.read().decode(errors="replace")
    assert "Traceback" not in output, output


@contextlib.asynccontextmanager
async def devices_that_answer() -> AsyncIterator[set[str]]:
    """One MQTT client playing every device: it answers each command with success."""
    answered: set[str] = set()
    async with aiomqtt.Client(MQTT_HOST, MQTT_PORT, protocol=aiomqtt.ProtocolVersion.V5) as mqtt:
        prefix = f"scale-{uuid.uuid4().hex[:6]}"
        await mqtt.subscribe("devices/+/commands", qos=1)

        async def answer() -> None:
            async for message in mqtt.messages:
                device_id = message.topic.value.split("/")[1]
                if not device_id.startswith(prefix):
                    continue  # another test's device
                assert isinstance(message.payload, bytes)
                request_id = json.loads(message.payload)["request_id"]
                answered.add(request_id)
                reply = {"request_id": request_id, "status": "succeeded"}
                await mqtt.publish(f"devices/{device_id}/responses", json.dumps(reply), qos=1)

        task = asyncio.create_task(answer())
        answered.add(prefix)  # the prefix the devices' ids must start with
        try:
            yield answered
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def test_three_replicas_two_connectors_ten_thousand_commands(
    dev_broker: DevBroker, postgres_url: str
) -> None:
    settings = connector_settings(dev_broker.bootstrap_servers)
    begun = time.monotonic()
    with contextlib.ExitStack() as stack:
        # connectors and replicas start side by side (each costs seconds)
        starting = [
            asyncio.to_thread(stack.enter_context, running_connector(settings)) for _ in range(2)
        ]
        await asyncio.gather(*starting)
        print(f"\nconnectors up after {time.monotonic() - begun:.1f} s")
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
                answers = await asyncio.gather(
                    *(
                        https[n % REPLICAS].post(
                            "/api/v1/commands/batch",
                            json={
                                "commands": [
                                    command(device_id=f"{prefix}-{(n * BATCH + i) % 200}")
                                    for i in range(BATCH)
                                ]
                            },
                        )
                        for n in range(COMMANDS // BATCH)
                    )
                )
                sent_through_others = [
                    (
                        await https[1 + n % 2].post(
                            "/api/v1/commands", json=command(device_id=watched)
                        )
                    ).json()
                    for n in range(4)
                ]
                accepted = {
                    result["request_id"]
                    for answer in answers
                    for result in answer.json()["results"]
                }
                followed = [await device_events.next(timeout=60) for _ in range(8)]
                # the final state, on every replica
                deadline = time.monotonic() + 90
                while True:
                    counts = [
                        (await http.get("/api/v1/status")).json()["commands_by_status"]
                        for http in https
                    ]
                    if all(c.get("succeeded") == COMMANDS + 4 for c in counts):
                        break
                    assert time.monotonic() < deadline, counts
                    await asyncio.sleep(0.5)
                elapsed = time.monotonic() - started
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
    seen = {(e["data"]["request_id"], e["data"]["status"]) for e in followed if e}
    for posted in sent_through_others:
        assert (posted["request_id"], "succeeded") in seen
    assert final_elsewhere is not None
    assert final_elsewhere["data"]["status"] == "succeeded"
    print(
        f"\n{COMMANDS} commands through {REPLICAS} replicas to their final state in {elapsed:.1f} s"
    )
