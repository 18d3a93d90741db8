"""Application → API → Kafka → MQTT connector → device → reply → status, every part real.

The application is the typed client, the API runs under uvicorn, the broker is the Kafka-protocol
broker in its own process, the connector is `pusher-api connector mqtt` in its own process, the
devices are MQTT clients on the local Mosquitto that answer on devices/{id}/responses.
"""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta

import aiomqtt
import pytest
from pusher_api.client import AsyncPusherClient, CommandStatus, CommandStatusView
from pusher_api.connector.settings import MqttConnectorSettings
from pusher_api.dev_broker import DevBroker

from .conftest import RunningApi, command
from .connector_harness import (
    MQTT_HOST,
    MQTT_PORT,
    TIMEOUT_S,
    Device,
    body,
    connector_settings,
    device,
    running_connector,
)

pytestmark = [pytest.mark.kafka, pytest.mark.mqtt]

StartApi = Callable[..., AbstractContextManager[RunningApi]]


@pytest.fixture(scope="module")
def settings(dev_broker: DevBroker) -> MqttConnectorSettings:
    return connector_settings(dev_broker.bootstrap_servers)


@pytest.fixture(scope="module")
def connector(settings: MqttConnectorSettings) -> Iterator[subprocess.Popen[bytes]]:
    with running_connector(settings) as process:
        yield process


@pytest.fixture
async def pusher(
    start_api: StartApi,
    settings: MqttConnectorSettings,
    connector: subprocess.Popen[bytes],
) -> AsyncIterator[AsyncPusherClient]:
    """A client of a service that shares its topics with the running connector."""
    with start_api(
        kafka_command_topic=settings.kafka_command_topic,
        kafka_status_topic=settings.kafka_status_topic,
        api_keys=["e2e-key"],
    ) as api:
        async with AsyncPusherClient(api.base_url, api_key="e2e-key") as client:
            yield client


async def answer(dev: Device, **reply: object) -> str:
    """Play the device: take the next command and answer it; returns its request_id."""
    received = body(await dev.next_command())
    await dev.reply({"request_id": received["request_id"], **reply})
    return str(received["request_id"])


async def test_a_command_reaches_the_device_and_its_success_is_visible_in_the_api(
    pusher: AsyncPusherClient,
) -> None:
    async with device() as dev:
        accepted = await pusher.send_command(
            command(device_id=dev.device_id, command_type="reboot", payload={"delay_s": 5})
        )
        message = await dev.next_command()
        delivered = await _wait_for_status(pusher, accepted.request_id, CommandStatus.delivered)
        await dev.reply({"request_id": accepted.request_id, "success": True})
        final = await pusher.wait_for_final_status(accepted.request_id, timeout=TIMEOUT_S)

    assert body(message)["request_id"] == accepted.request_id
    assert body(message)["command_type"] == "reboot"
    assert body(message)["payload"] == {"delay_s": 5}
    assert message.qos == 1  # the command's default qos
    assert delivered.delivered_at is not None
    assert final.status is CommandStatus.succeeded
    assert final.finished_at is not None
    assert final.delivered_at is not None
    assert final.delivered_at <= final.finished_at


async def test_a_device_failure_reply_is_failed_with_the_devices_reason(
    pusher: AsyncPusherClient,
) -> None:
    async with device() as dev:
        accepted = await pusher.send_command(command(device_id=dev.device_id))
        await answer(dev, status="failed", detail="firmware image checksum mismatch")
        final = await pusher.wait_for_final_status(accepted.request_id, timeout=TIMEOUT_S)
    assert final.status is CommandStatus.failed
    assert final.detail == "firmware image checksum mismatch"


async def test_a_batch_reaches_each_device_in_order_and_every_command_succeeds(
    pusher: AsyncPusherClient,
) -> None:
    async with device() as first, device() as second:
        batch = await pusher.send_batch(
            [
                command(device_id=dev.device_id, payload={"step": step})
                for step in range(3)
                for dev in (first, second)
            ]
        )
        steps: dict[str, list[int]] = {first.device_id: [], second.device_id: []}
        for dev in (first, second):
            for _ in range(3):
                message = body(await dev.next_command())
                steps[dev.device_id].append(message["payload"]["step"])
                await dev.reply({"request_id": message["request_id"], "status": "succeeded"})
        finals = [
            await pusher.wait_for_final_status(result.request_id or "", timeout=TIMEOUT_S)
            for result in batch.results
        ]
    assert batch.successful == 6
    assert steps == {first.device_id: [0, 1, 2], second.device_id: [0, 1, 2]}
    assert {final.status for final in finals} == {CommandStatus.succeeded}


async def test_a_retained_command_reaches_a_device_that_connects_later(
    pusher: AsyncPusherClient,
) -> None:
    device_id = f"late-{uuid.uuid4().hex[:10]}"
    accepted = await pusher.send_command(
        command(device_id=device_id, qos=2, retain=True, command_type="set_config")
    )
    try:
        await _wait_for_status(pusher, accepted.request_id, CommandStatus.delivered)
        async with device(device_id) as dev:  # the device comes online after delivery
            message = await dev.next_command()
            await dev.reply({"request_id": accepted.request_id, "success": True})
            final = await pusher.wait_for_final_status(accepted.request_id, timeout=TIMEOUT_S)
    finally:  # Mosquitto persists retained messages: leave none behind
        async with aiomqtt.Client(MQTT_HOST, MQTT_PORT) as cleaner:
            await cleaner.publish(f"devices/{device_id}/commands", b"", qos=1, retain=True)
    assert message.retain
    assert message.qos == 2
    assert body(message)["request_id"] == accepted.request_id
    assert final.status is CommandStatus.succeeded


async def test_a_retained_command_for_an_offline_device_expires_on_the_broker_too(
    pusher: AsyncPusherClient,
) -> None:
    device_id = f"offline-{uuid.uuid4().hex[:10]}"
    accepted = await pusher.send_command(
        command(
            device_id=device_id,
            retain=True,
            expires_at=(datetime.now(UTC) + timedelta(seconds=1)).isoformat(),
        )
    )
    try:
        delivered = await _wait_for_status(pusher, accepted.request_id, CommandStatus.delivered)
        final = await pusher.wait_for_final_status(accepted.request_id, timeout=TIMEOUT_S)
        # The message expiry interval is at most 1 s, counted from the publish (before delivered).
        assert delivered.delivered_at is not None
        published_until = (delivered.delivered_at - datetime.now(UTC)).total_seconds()
        await asyncio.sleep(max(0.0, published_until + 1.2))
        # The retained copy carried a message expiry: Mosquitto dropped it, the device that comes
        # online now gets no stale command.
        async with device(device_id) as dev:
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.5):
                    await dev.next_command()
    finally:
        async with aiomqtt.Client(MQTT_HOST, MQTT_PORT) as cleaner:
            await cleaner.publish(f"devices/{device_id}/commands", b"", qos=1, retain=True)
    assert final.status is CommandStatus.expired
    assert final.delivered_at is not None


async def _wait_for_status(
    pusher: AsyncPusherClient, request_id: str, wanted: CommandStatus
) -> CommandStatusView:
    order = list(CommandStatus)
    async with asyncio.timeout(TIMEOUT_S):
        while True:
            view = await pusher.get_status(request_id)
            if order.index(view.status) >= order.index(wanted):
                return view
            await asyncio.sleep(0.05)
