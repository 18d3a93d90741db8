"""Three replicas of the service on one PostgreSQL and one broker, an MQTT connector, commands
spread over the replicas (10,000 with SCALE_OUT_COMMANDS=10000): each is on the topic exactly once,
reaches its device, and its final state is the same on every replica; an event stream on one
replica follows commands sent through the others.

The connector is a `pusher-api connector mqtt` process, the replicas separate apps under
uvicorn, the devices one MQTT client on Mosquitto playing them all (it answers every command).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import aiomqtt
import httpx
import pytest
from pusher_api.app import create_app
from pusher_api.connector.settings import MqttConnectorSettings
from pusher_api.dev_broker import DevBroker
from pusher_api.settings import Settings
from pusher_api.testing.kafka import read_topic
from pusher_api.testing.server import serve_in_thread

from .conftest import command
from .connector_harness import MQTT_HOST, MQTT_PORT, connector_settings, running_connector
from .test_events import event_stream

pytestmark = [pytest.mark.postgres, pytest.mark.kafka, pytest.mark.mqtt]

REPLICAS = 3
COMMANDS = int(os.environ.get("SCALE_OUT_COMMANDS", "400"))
"""10,000 with SCALE_OUT_COMMANDS=10000: on the shared 2-core machine that takes minutes (see
the closing note of the scale-out work); 400 keep the suite within its time."""
BATCH = 100


@contextlib.contextmanager
def replica(settings: MqttConnectorSettings, database_url: str) -> Iterator[str]:
    """One replica: its own app, event loop, Kafka clients and database pool, on its own port
    (in a thread of this process: starting three `pusher-api serve` processes costs more time
    than the rest of the test on a busy machine)."""
    app = create_app(
        Settings(
            _env_file=None,  # type: ignore[call-arg]
            kafka_bootstrap_servers=settings.kafka_bootstrap_servers,
            kafka_command_topic=settings.kafka_command_topic,
            kafka_status_topic=settings.kafka_status_topic,
            kafka_cancel_topic=settings.kafka_cancel_topic,
            database_url=database_url,
            api_keys=[],
            log_level="WARNING",
        )
    )
    with serve_in_thread(app) as base_url:
        yield base_url


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


async def test_three_replicas_serve_as_one(dev_broker: DevBroker, postgres_url: str) -> None:
    settings = connector_settings(dev_broker.bootstrap_servers)
    begun = time.monotonic()
    with contextlib.ExitStack() as stack:
        # One connector: a second member of the group is refused by the librdkafka mock
        # (SyncGroup answers InvalidRequestError, also when retried), so two connector
        # instances in one group can only run against a real Kafka.
        await asyncio.to_thread(stack.enter_context, running_connector(settings))
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
                deadline = time.monotonic() + 150
                while True:
                    counts = [
                        (await http.get("/api/v1/status")).json()["commands_by_status"]
                        for http in https
                    ]
                    if all(c.get("succeeded") == COMMANDS + 4 for c in counts):
                        break
                    assert time.monotonic() < deadline, counts
                    print(f"{time.monotonic() - started:.1f} s {counts}")
                    await asyncio.sleep(1.0)
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
    assert final_elsewhere is not None
    assert final_elsewhere["data"]["status"] == "succeeded"
    print(
        f"\n{COMMANDS} commands through {REPLICAS} replicas to their final state in {elapsed:.1f} s"
    )
