"""Broker outages: 503 within KAFKA_TIMEOUT_MS, recovery without a restart, nothing lost or doubled.

The broker is a real Kafka-protocol broker in its own process; outages are a SIGKILL of that
process, or a cut of the TCP proxy in front of it (which keeps the broker's data, so the topic
can be compared afterwards).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import httpx
import pytest
from pusher_api.dev_broker import DevBroker
from pusher_api.testing.kafka import read_topic
from pusher_api.testing.tcp_proxy import KafkaProxy

from .conftest import RunningApi, command, unique_topic

pytestmark = pytest.mark.kafka

StartApi = Callable[..., AbstractContextManager[RunningApi]]
TIMEOUT_MS = 1500


@pytest.fixture
def proxied_broker() -> Iterator[tuple[DevBroker, KafkaProxy]]:
    with DevBroker() as broker, KafkaProxy(broker.bootstrap_servers) as proxy:
        yield broker, proxy


async def post_timed(http: httpx.AsyncClient) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await http.post("/api/v1/commands", json=command())
    return response, time.monotonic() - started


async def test_killed_broker_gives_503_within_the_timeout(start_api: StartApi) -> None:
    with (
        DevBroker() as broker,
        start_api(
            kafka_bootstrap_servers=broker.bootstrap_servers, kafka_timeout_ms=TIMEOUT_MS
        ) as api,
    ):
        async with api.client() as http:
            before, _ = await post_timed(http)
            broker.kill()
            during, elapsed = await post_timed(http)
            await asyncio.sleep(2.5)  # one health check interval
            health = (await http.get("/health")).json()
            status = (await http.get("/api/v1/status")).json()
    assert before.status_code == 202
    assert during.status_code == 503
    assert elapsed < TIMEOUT_MS / 1000 + 1.0
    assert during.headers["Retry-After"] == "1"
    assert f"KAFKA_TIMEOUT_MS={TIMEOUT_MS}" in during.json()["detail"]
    assert health == {"status": "degraded", "kafka_connected": False, "store_connected": True}
    assert status["kafka_connected"] is False
    assert "Kafka" in status["last_error"]


async def test_service_recovers_without_restart(
    start_api: StartApi, proxied_broker: tuple[DevBroker, KafkaProxy]
) -> None:
    _, proxy = proxied_broker
    with start_api(
        kafka_bootstrap_servers=proxy.bootstrap_servers, kafka_timeout_ms=TIMEOUT_MS
    ) as api:
        async with api.client() as http:
            before, _ = await post_timed(http)
            proxy.cut()
            during, elapsed = await post_timed(http)
            proxy.restore()
            deadline = time.monotonic() + 15
            after, _ = await post_timed(http)
            while after.status_code != 202 and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
                after, _ = await post_timed(http)
    assert before.status_code == 202
    assert during.status_code == 503
    assert elapsed < TIMEOUT_MS / 1000 + 1.0
    assert after.status_code == 202, after.text


async def test_service_started_while_kafka_is_down_serves_once_it_is_up(
    start_api: StartApi, proxied_broker: tuple[DevBroker, KafkaProxy]
) -> None:
    _, proxy = proxied_broker
    proxy.cut()
    with start_api(
        kafka_bootstrap_servers=proxy.bootstrap_servers, kafka_timeout_ms=TIMEOUT_MS
    ) as api:
        async with api.client() as http:
            down = await http.post("/api/v1/commands", json=command())
            proxy.restore()
            deadline = time.monotonic() + 15
            up = await http.post("/api/v1/commands", json=command())
            while up.status_code != 202 and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
                up = await http.post("/api/v1/commands", json=command())
    assert down.status_code == 503
    assert "not connected to Kafka" in down.json()["detail"]
    assert up.status_code == 202


@pytest.mark.chaos
async def test_every_accepted_command_is_on_the_topic_exactly_once(
    start_api: StartApi, proxied_broker: tuple[DevBroker, KafkaProxy]
) -> None:
    broker, proxy = proxied_broker
    topic = unique_topic()
    accepted: list[str] = []
    refused: list[str] = []
    with start_api(
        kafka_bootstrap_servers=proxy.bootstrap_servers,
        kafka_command_topic=topic,
        kafka_timeout_ms=TIMEOUT_MS,
    ) as api:
        async with api.client() as http:

            async def sender(worker: int) -> None:
                for i in range(60):
                    body = command(device_id=f"dev-{worker}", payload={"i": i})
                    response = await http.post("/api/v1/commands", json=body)
                    if response.status_code == 202:
                        accepted.append(response.json()["request_id"])
                    else:
                        assert response.status_code == 503, response.text
                        refused.append(response.json()["request_id"])

            async def outage() -> None:
                await asyncio.sleep(0.5)
                proxy.cut()
                await asyncio.sleep(2.0)
                proxy.restore()

            await asyncio.gather(outage(), *(sender(worker) for worker in range(5)))
        records = await read_topic(broker.bootstrap_servers, topic, expect=len(accepted))

    assert refused, "the outage did not refuse any command: the test did not test anything"
    assert len(accepted) > 100
    on_topic = Counter(json.loads(record.value)["request_id"] for record in records)
    assert all(on_topic[request_id] == 1 for request_id in accepted)
    # Refused (503) commands may still appear: the idempotent producer keeps retrying what it
    # holds. The mock broker does not always deduplicate those retries across a cut connection,
    # so their count is not asserted; only what the API promised (2xx) is.
    assert set(on_topic) <= set(accepted) | set(refused)
