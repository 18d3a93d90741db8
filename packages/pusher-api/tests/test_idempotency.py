"""Idempotency-Key: a repeat, also a concurrent one, gets the first answer and one record only."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from pusher_api.testing.kafka import read_topic

from .conftest import RunningApi, command, unique_topic

pytestmark = pytest.mark.kafka

StartApi = Callable[..., AbstractContextManager[RunningApi]]
CLIENT = {"X-Client-Id": "idempotency-tests"}


async def test_repeats_return_the_first_answer_and_write_one_record(start_api: StartApi) -> None:
    topic = unique_topic()
    with start_api(kafka_command_topic=topic) as api:
        async with api.client() as http:
            headers = {"Idempotency-Key": "order-1001-reboot", **CLIENT}
            first = await http.post("/api/v1/commands", json=command(), headers=headers)
            again = await http.post("/api/v1/commands", json=command(), headers=headers)
            concurrent = await asyncio.gather(
                *(
                    http.post(
                        "/api/v1/commands",
                        json=command(),
                        headers={"Idempotency-Key": "order-1002-reboot", **CLIENT},
                    )
                    for _ in range(20)
                )
            )
            other_key = await http.post(
                "/api/v1/commands",
                json=command(),
                headers={"Idempotency-Key": "order-1003", **CLIENT},
            )
        records = await read_topic(api.settings.kafka_bootstrap_servers, topic, expect=3)

    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert {r.status_code for r in concurrent} == {202}
    assert len({r.text for r in concurrent}) == 1
    assert other_key.json()["request_id"] not in (
        first.json()["request_id"],
        concurrent[0].json()["request_id"],
    )
    on_topic = sorted(json.loads(r.value)["request_id"] for r in records)
    assert on_topic == sorted(
        [
            first.json()["request_id"],
            concurrent[0].json()["request_id"],
            other_key.json()["request_id"],
        ]
    )


async def test_keys_are_scoped_to_the_api_key(start_api: StartApi) -> None:
    with start_api(api_keys=["tenant-a", "tenant-b"]) as api:
        async with api.client() as http:
            answers = [
                await http.post(
                    "/api/v1/commands",
                    json=command(),
                    headers={"X-API-Key": tenant, "Idempotency-Key": "same-key"},
                )
                for tenant in ("tenant-a", "tenant-b")
            ]
    assert answers[0].json()["request_id"] != answers[1].json()["request_id"]


async def test_a_repeated_batch_publishes_nothing_new(start_api: StartApi) -> None:
    topic = unique_topic()
    batch = {"commands": [command(device_id=f"dev-{i}") for i in range(10)]}
    with start_api(kafka_command_topic=topic) as api:
        async with api.client() as http:
            headers = {"Idempotency-Key": "nightly-config-push", **CLIENT}
            first = await http.post("/api/v1/commands/batch", json=batch, headers=headers)
            again = await http.post("/api/v1/commands/batch", json=batch, headers=headers)
        records = await read_topic(api.settings.kafka_bootstrap_servers, topic, expect=10)
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert len(records) == 10
