"""The command lifecycle from real status records on the status topic, and expiry."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from pusher_api.messages import CommandStatus, StatusReport

from .conftest import RunningApi, command, unique_topic

pytestmark = pytest.mark.kafka

StartApi = Callable[..., AbstractContextManager[RunningApi]]


async def wait_for_status(
    http: httpx.AsyncClient, request_id: str, wanted: str, wait_s: float = 10.0
) -> dict[str, Any]:
    deadline = time.monotonic() + wait_s
    while True:
        body: dict[str, Any] = (await http.get(f"/api/v1/commands/{request_id}/status")).json()
        if body["status"] == wanted or time.monotonic() > deadline:
            return body
        await asyncio.sleep(0.05)


async def report(
    bootstrap: str, topic: str, request_id: str, status: str, detail: str | None = None
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        message = StatusReport(
            request_id=request_id,
            device_id="sensor-001",
            status=CommandStatus(status),
            detail=detail,
        )
        await producer.send_and_wait(topic, message.kafka_value(), key=message.kafka_key())
    finally:
        await producer.stop()


async def test_reports_move_a_command_forward_and_never_back(start_api: StartApi) -> None:
    status_topic = unique_topic("status")
    with start_api(kafka_status_topic=status_topic) as api:
        bootstrap = api.settings.kafka_bootstrap_servers
        async with api.client() as http:
            posted = (await http.post("/api/v1/commands", json=command())).json()
            rid = posted["request_id"]
            sent = await wait_for_status(http, rid, "sent", wait_s=0)
            assert sent["status"] == "sent"
            assert (sent["kafka_partition"], sent["kafka_offset"]) == (
                posted["kafka_partition"],
                posted["kafka_offset"],
            )
            assert sent["queued_at"] <= sent["sent_at"]

            await report(bootstrap, status_topic, rid, "delivered")
            delivered = await wait_for_status(http, rid, "delivered")
            assert delivered["status"] == "delivered"
            assert delivered["delivered_at"] is not None

            await report(bootstrap, status_topic, rid, "succeeded", "rebooted in 4.2 s")
            succeeded = await wait_for_status(http, rid, "succeeded")
            assert (succeeded["status"], succeeded["detail"]) == ("succeeded", "rebooted in 4.2 s")

            # a late "delivered" and a contradicting "failed" must not change a final state
            await report(bootstrap, status_topic, rid, "delivered")
            await report(bootstrap, status_topic, rid, "failed", "timeout")
            marker = (await http.post("/api/v1/commands", json=command())).json()["request_id"]
            await report(bootstrap, status_topic, marker, "delivered")
            await wait_for_status(http, marker, "delivered")  # reports are consumed in order
            final = (await http.get(f"/api/v1/commands/{rid}/status")).json()
            metrics = (await http.get("/api/v1/metrics")).json()
    assert final == succeeded
    assert metrics["pusher_status_reports"]["ignored"] == 2.0


async def test_failed_report_and_malformed_records(start_api: StartApi) -> None:
    status_topic = unique_topic("status")
    with start_api(kafka_status_topic=status_topic) as api:
        bootstrap = api.settings.kafka_bootstrap_servers
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
        await producer.start()
        await producer.send_and_wait(status_topic, b"not json")
        await producer.send_and_wait(status_topic, b'{"request_id": "x", "status": "queued"}')
        await producer.stop()
        async with api.client() as http:
            rid = (await http.post("/api/v1/commands", json=command())).json()["request_id"]
            await report(bootstrap, status_topic, rid, "failed", "device answered 500")
            failed = await wait_for_status(http, rid, "failed")
            metrics = (await http.get("/api/v1/metrics")).json()
    assert (failed["status"], failed["detail"]) == ("failed", "device answered 500")
    assert failed["finished_at"] is not None
    assert metrics["pusher_status_reports"]["malformed"] == 2.0


async def test_consumer_resumes_after_restart_without_replaying(start_api: StartApi) -> None:
    status_topic = unique_topic("status")
    settings_overrides = {"kafka_status_topic": status_topic}
    with start_api(**settings_overrides) as api:
        settings = api.settings
        async with api.client() as http:
            rid = (await http.post("/api/v1/commands", json=command())).json()["request_id"]
            await report(settings.kafka_bootstrap_servers, status_topic, rid, "delivered")
            await wait_for_status(http, rid, "delivered")
    with start_api(settings) as api:  # same database: resumes after the applied report
        async with api.client() as http:
            await report(settings.kafka_bootstrap_servers, status_topic, rid, "succeeded")
            done = await wait_for_status(http, rid, "succeeded")
            metrics = (await http.get("/api/v1/metrics")).json()
    assert done["status"] == "succeeded"
    assert metrics["pusher_status_reports"] == {"succeeded": 1.0}


async def test_commands_past_expires_at_become_expired(client: httpx.AsyncClient) -> None:
    soon = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    short = (await client.post("/api/v1/commands", json=command(expires_at=soon))).json()
    long = (await client.post("/api/v1/commands", json=command(expires_at=later))).json()
    expired = await wait_for_status(client, short["request_id"], "expired", wait_s=5)
    assert expired["status"] == "expired"
    assert "expires_at passed" in expired["detail"]
    assert expired["finished_at"] >= expired["expires_at"]
    still_sent = (await client.get(f"/api/v1/commands/{long['request_id']}/status")).json()
    assert still_sent["status"] == "sent"
