"""Schedule and cancel through every real part: API, broker, MQTT connector, Mosquitto device.

The rules under test: a command with `not_before` is held in the store (`scheduled`) and is
published only when due; a cancel of a scheduled command means it is never published; a cancel
of a command on Kafka is decided by the connector (which never delivers a cancelled command);
a cancel after delivery is 409 naming the state.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pusher_api.connector.settings import MqttConnectorSettings
from pusher_api.dev_broker import DevBroker
from pusher_api.testing.kafka import read_topic

from .conftest import RunningApi, command
from .connector_harness import (
    TIMEOUT_S,
    Device,
    body,
    connector_in_thread,
    connector_settings,
    device,
)

pytestmark = [pytest.mark.kafka, pytest.mark.mqtt]

StartApi = Callable[..., AbstractContextManager[RunningApi]]


@pytest.fixture(scope="module")
def settings(dev_broker: DevBroker) -> MqttConnectorSettings:
    return connector_settings(dev_broker.bootstrap_servers)


@pytest.fixture(scope="module")
def connector(settings: MqttConnectorSettings) -> Iterator[None]:
    with connector_in_thread(settings):
        yield


@pytest.fixture
def service(
    start_api: StartApi, settings: MqttConnectorSettings, connector: None
) -> Iterator[RunningApi]:
    with start_api(**_topics(settings), schedule_interval_s=0.2) as api:
        yield api


def _topics(settings: MqttConnectorSettings) -> dict[str, Any]:
    return {
        "kafka_command_topic": settings.kafka_command_topic,
        "kafka_status_topic": settings.kafka_status_topic,
        "kafka_cancel_topic": settings.kafka_cancel_topic,
    }


def _in(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


async def _status(http: httpx.AsyncClient, request_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = (await http.get(f"/api/v1/commands/{request_id}/status")).json()
    return answer


async def _wait_for(
    http: httpx.AsyncClient, request_id: str, wanted: str, wait_s: float = TIMEOUT_S
) -> dict[str, Any]:
    deadline = time.monotonic() + wait_s
    while True:
        current = await _status(http, request_id)
        if current["status"] == wanted or time.monotonic() > deadline:
            return current
        await asyncio.sleep(0.05)


async def _received_within(dev: Device, seconds: float) -> set[str]:
    """The request ids of the commands the device receives in the next `seconds`."""
    received: set[str] = set()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            while True:
                received.add(body(await dev.next_command())["request_id"])
    return received


async def _on_topic(api: RunningApi, request_id: str) -> bool:
    records = await read_topic(
        api.settings.kafka_bootstrap_servers, api.settings.kafka_command_topic
    )
    return any(json.loads(r.value)["request_id"] == request_id for r in records)


async def test_a_scheduled_command_is_published_only_when_due(service: RunningApi) -> None:
    async with device() as dev, service.client() as http:
        not_before = _in(2.0)
        posted = await http.post(
            "/api/v1/commands", json=command(device_id=dev.device_id, not_before=not_before)
        )
        held = await _status(http, posted.json()["request_id"])
        on_topic_early = await _on_topic(service, posted.json()["request_id"])
        message = await dev.next_command()
        received_at = datetime.now(UTC)
        delivered = await _wait_for(http, posted.json()["request_id"], "delivered")

    assert posted.status_code == 202
    assert posted.json()["status"] == "scheduled"
    assert posted.json()["kafka_offset"] is None
    assert held["status"] == "scheduled"
    assert held["not_before"] == not_before
    assert not on_topic_early
    assert received_at >= datetime.fromisoformat(not_before)
    assert body(message)["request_id"] == posted.json()["request_id"]
    assert delivered["sent_at"] >= delivered["not_before"]


async def test_a_cancel_just_before_not_before_means_never_published(service: RunningApi) -> None:
    async with device() as dev, service.client() as http:
        posted = await http.post(
            "/api/v1/commands", json=command(device_id=dev.device_id, not_before=_in(0.6))
        )
        request_id = posted.json()["request_id"]
        await asyncio.sleep(0.4)
        cancelled = await http.post(f"/api/v1/commands/{request_id}/cancel")
        again = await http.post(f"/api/v1/commands/{request_id}/cancel")
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(1.5):
                await dev.next_command()
        final = await _status(http, request_id)

    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert again.status_code == 200
    assert final["status"] == "cancelled"
    assert final["sent_at"] is None
    assert not await _on_topic(service, request_id)


async def test_cancels_racing_the_due_instant_never_let_a_cancelled_command_through(
    service: RunningApi,
) -> None:
    """Ten commands due at one instant, each cancelled at a different moment around it: every
    200 is a command the device never sees, every other answer names where the command is."""
    count = 10
    async with device() as dev, service.client() as http:
        due = datetime.now(UTC) + timedelta(seconds=1.0)
        ids = []
        for _ in range(count):
            posted = await http.post(
                "/api/v1/commands",
                json=command(device_id=dev.device_id, not_before=due.isoformat()),
            )
            ids.append(posted.json()["request_id"])

        async def cancel_at(request_id: str, offset_s: float) -> httpx.Response:
            delay = (due - datetime.now(UTC)).total_seconds() + offset_s
            await asyncio.sleep(max(0.0, delay))
            return await http.post(f"/api/v1/commands/{request_id}/cancel")

        offsets = [-0.2 + 0.05 * n for n in range(count)]  # -0.2 s … +0.25 s around due
        answers = await asyncio.gather(
            *(cancel_at(i, o) for i, o in zip(ids, offsets, strict=True))
        )
        received = await _received_within(dev, 2.0)
        finals = {i: (await _status(http, i))["status"] for i in ids}

    for request_id, answer in zip(ids, answers, strict=True):
        if answer.status_code == 200:
            assert request_id not in received
            assert finals[request_id] == "cancelled"
        else:
            assert answer.status_code == 409
            assert answer.json()["status"] in ("delivered", "succeeded")
            assert request_id in received
    assert any(a.status_code == 200 for a in answers)  # the early cancels won


async def test_a_cancel_after_delivery_is_409_naming_the_state(service: RunningApi) -> None:
    async with device() as dev, service.client() as http:
        posted = await http.post("/api/v1/commands", json=command(device_id=dev.device_id))
        await dev.next_command()
        await _wait_for(http, posted.json()["request_id"], "delivered")
        refused = await http.post(f"/api/v1/commands/{posted.json()['request_id']}/cancel")
        unknown = await http.post("/api/v1/commands/no-such-command/cancel")

    assert refused.status_code == 409
    assert refused.json() == {
        "detail": "too late to cancel: the command is delivered",
        "request_id": posted.json()["request_id"],
        "status": "delivered",
    }
    assert unknown.status_code == 404


async def test_a_command_on_kafka_is_cancelled_by_the_connector_that_gets_to_it(
    start_api: StartApi, dev_broker: DevBroker
) -> None:
    """No connector while the command is on Kafka: the cancel is recorded (202); the connector
    that starts later reads the cancellation first and reports the command cancelled."""
    settings = connector_settings(dev_broker.bootstrap_servers)
    with start_api(**_topics(settings), cancel_wait_ms=300) as api:
        async with device() as dev, api.client() as http:
            posted = await http.post("/api/v1/commands", json=command(device_id=dev.device_id))
            request_id = posted.json()["request_id"]
            requested = await http.post(f"/api/v1/commands/{request_id}/cancel")
            connector = connector_in_thread(settings)
            await asyncio.to_thread(connector.__enter__)  # it waits for the connector to serve
            try:
                final = await _wait_for(http, request_id, "cancelled")
                with pytest.raises(TimeoutError):
                    async with asyncio.timeout(0.5):
                        await dev.next_command()
            finally:
                await asyncio.to_thread(connector.__exit__, None, None, None)

    assert posted.json()["status"] == "sent"
    assert requested.status_code == 202
    assert requested.json()["status"] == "sent"
    assert requested.json()["cancel_requested_at"] is not None
    assert final["status"] == "cancelled"
    assert final["detail"] == "cancelled before it was published to the device"
