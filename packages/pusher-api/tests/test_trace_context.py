"""W3C Trace Context: the request's `traceparent` travels to Kafka, to the device (MQTT v5 user
property) and back on the connector's status records."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pytest
from aiokafka import AIOKafkaConsumer
from pusher_api.connector.device_protocol import user_property
from pusher_api.connector.settings import MqttConnectorSettings
from pusher_api.dev_broker import DevBroker
from pusher_api.messages import CommandStatus
from pusher_api.testing.kafka import read_topic

from .conftest import RunningApi, command
from .connector_harness import StatusReader, connector_in_thread, connector_settings, device

pytestmark = [pytest.mark.kafka, pytest.mark.mqtt]

StartApi = Callable[..., AbstractContextManager[RunningApi]]
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@pytest.fixture(scope="module")
def settings(dev_broker: DevBroker) -> MqttConnectorSettings:
    return connector_settings(dev_broker.bootstrap_servers)


@pytest.fixture(scope="module")
def connector(settings: MqttConnectorSettings) -> Iterator[None]:
    with connector_in_thread(settings):
        yield


async def test_traceparent_reaches_kafka_the_device_and_comes_back(
    start_api: StartApi, settings: MqttConnectorSettings, connector: None
) -> None:
    topics = {
        "kafka_command_topic": settings.kafka_command_topic,
        "kafka_status_topic": settings.kafka_status_topic,
        "kafka_cancel_topic": settings.kafka_cancel_topic,
    }
    with start_api(**topics) as api:
        async with device() as dev, api.client() as http:
            posted = await http.post(
                "/api/v1/commands",
                json=command(device_id=dev.device_id),
                headers={"traceparent": TRACEPARENT},
            )
            malformed = await http.post(
                "/api/v1/commands",
                json=command(device_id=dev.device_id),
                headers={"traceparent": "00-not-a-trace-01"},
            )
            rid = posted.json()["request_id"]
            message = await dev.next_command()
            await dev.next_command()
            await dev.reply({"request_id": posted.json()["request_id"], "status": "succeeded"})
            consumer = AIOKafkaConsumer(
                settings.kafka_status_topic,
                bootstrap_servers=settings.kafka_bootstrap_servers,
                auto_offset_reset="earliest",
            )
            await consumer.start()
            try:
                reader = StatusReader(consumer)
                succeeded = await reader.wait_for(rid, CommandStatus.succeeded)
                delivered = await reader.wait_for(rid, CommandStatus.delivered)
            finally:
                await consumer.stop()
            stored = (
                await http.get(f"/api/v1/commands/{posted.json()['request_id']}/status")
            ).json()
        records = await read_topic(settings.kafka_bootstrap_servers, settings.kafka_command_topic)

    headers = {dict(r.headers)["request_id"].decode(): dict(r.headers) for r in records}
    assert headers[posted.json()["request_id"]]["traceparent"] == TRACEPARENT.encode()
    assert "traceparent" not in headers[malformed.json()["request_id"]]  # dropped, not refused
    assert malformed.status_code == 202
    assert user_property(message.properties, "traceparent") == TRACEPARENT
    assert delivered.traceparent == succeeded.traceparent == TRACEPARENT
    assert stored["traceparent"] == TRACEPARENT
