"""Right answers in every failure: a published command is 202 whatever the store does, an
Idempotency-Key never mixes callers or bodies and never answers 503 forever, a status report
for another device is refused.

Faults are real: the status store's `sent` write is made to fail by a PostgreSQL trigger (the
database refuses the update, as it would when a disk fills or a constraint breaks), and
replicas are separate apps on one database and one broker.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import asyncpg
import httpx
import pytest
from pusher_api.testing.kafka import read_topic

from .conftest import RunningApi, command, unique_topic
from .test_lifecycle import report

pytestmark = pytest.mark.kafka

StartApi = Callable[..., AbstractContextManager[RunningApi]]
CLIENT = {"X-Client-Id": "answers-test"}

_REFUSE_SENT = """
CREATE FUNCTION refuse_sent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'sent' THEN RAISE EXCEPTION 'disk full (test fault)'; END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER refuse_sent BEFORE UPDATE ON commands FOR EACH ROW EXECUTE FUNCTION refuse_sent();
"""
_ALLOW_SENT = "DROP TRIGGER refuse_sent ON commands; DROP FUNCTION refuse_sent();"


async def _sql(postgres_url: str, statement: str) -> Any:
    connection = await asyncpg.connect(postgres_url.replace("+asyncpg", ""))
    try:
        return (
            await connection.fetch(statement)
            if statement.startswith("SELECT")
            else (await connection.execute(statement))
        )
    finally:
        await connection.close()


async def _wait_for(
    http: httpx.AsyncClient, request_id: str, wanted: str, wait_s: float = 15.0
) -> dict[str, Any]:
    deadline = time.monotonic() + wait_s
    while True:
        body: dict[str, Any] = (await http.get(f"/api/v1/commands/{request_id}/status")).json()
        if body["status"] == wanted or time.monotonic() > deadline:
            return body
        await asyncio.sleep(0.1)


async def test_a_key_reused_with_another_body_is_409_naming_the_first_request(
    client: httpx.AsyncClient,
) -> None:
    headers = {"Idempotency-Key": "reboot-7", **CLIENT}
    first = await client.post("/api/v1/commands", json=command(), headers=headers)
    same_body_reordered = await client.post(
        "/api/v1/commands",
        content=json.dumps(dict(reversed(list(command().items())))),
        headers={**headers, "Content-Type": "application/json"},
    )
    other = await client.post("/api/v1/commands", json=command(payload={"x": 2}), headers=headers)
    batch_headers = {"Idempotency-Key": "nightly", **CLIENT}
    batch = {"commands": [command(device_id=f"d-{n}") for n in range(3)]}
    first_batch = await client.post("/api/v1/commands/batch", json=batch, headers=batch_headers)
    batch["commands"][1]["payload"] = {"changed": True}
    other_batch = await client.post("/api/v1/commands/batch", json=batch, headers=batch_headers)

    assert first.status_code == same_body_reordered.status_code == 202
    assert same_body_reordered.json() == first.json()
    assert other.status_code == 409
    assert other.json()["request_id"] == first.json()["request_id"]
    assert first.json()["request_id"] in other.json()["detail"]
    assert other_batch.status_code == 409
    assert other_batch.json()["request_id"] == first_batch.json()["results"][1]["request_id"]


async def test_without_api_keys_an_idempotency_key_needs_a_client_id(
    client: httpx.AsyncClient,
) -> None:
    anonymous = await client.post(
        "/api/v1/commands", json=command(), headers={"Idempotency-Key": "k-1"}
    )
    answers = [
        await client.post(
            "/api/v1/commands",
            json=command(),
            headers={"Idempotency-Key": "k-1", "X-Client-Id": name},
        )
        for name in ("billing", "provisioning")
    ]
    bad_id = await client.post(
        "/api/v1/commands",
        json=command(),
        headers={"Idempotency-Key": "k-1", "X-Client-Id": "has spaces"},
    )
    assert anonymous.status_code == 400
    assert "X-Client-Id" in anonymous.json()["detail"]
    assert [a.status_code for a in answers] == [202, 202]
    assert answers[0].json()["request_id"] != answers[1].json()["request_id"]
    assert bad_id.status_code == 400


async def test_a_status_report_naming_another_device_is_refused(start_api: StartApi) -> None:
    status_topic = unique_topic("status")
    with start_api(kafka_status_topic=status_topic) as api:
        bootstrap = api.settings.kafka_bootstrap_servers
        async with api.client() as http:
            posted = (await http.post("/api/v1/commands", json=command(device_id="meter-9"))).json()
            rid = posted["request_id"]
            await report(bootstrap, status_topic, rid, "succeeded")  # names sensor-001
            await asyncio.sleep(1.0)
            after = (await http.get(f"/api/v1/commands/{rid}/status")).json()
            counters = (await http.get("/api/v1/metrics")).json()
    assert after["status"] == "sent"
    assert counters["pusher_status_reports"]["refused"] == 1


@pytest.mark.postgres
async def test_a_published_command_is_202_when_its_status_write_fails(
    start_api: StartApi, postgres_url: str
) -> None:
    topic = unique_topic()
    settings = {"database_url": postgres_url, "kafka_command_topic": topic}
    with start_api(**settings) as api, start_api(**settings) as other_replica:
        await _sql(postgres_url, _REFUSE_SENT)
        headers = {"Idempotency-Key": "fw-update-1", **CLIENT}
        async with api.client() as http, other_replica.client() as other:
            first = await http.post("/api/v1/commands", json=command(), headers=headers)
            repeat = await http.post("/api/v1/commands", json=command(), headers=headers)
            elsewhere = await other.post("/api/v1/commands", json=command(), headers=headers)
            held = (await http.get(f"/api/v1/commands/{first.json()['request_id']}/status")).json()
            await _sql(postgres_url, _ALLOW_SENT)
            recorded = await _wait_for(http, first.json()["request_id"], "sent")
        records = await read_topic(api.settings.kafka_bootstrap_servers, topic, expect=1)

    assert first.status_code == 202
    assert repeat.status_code == elsewhere.status_code == 202
    assert repeat.json() == first.json()
    assert elsewhere.json()["kafka_offset"] == first.json()["kafka_offset"]  # found on the topic
    assert elsewhere.json()["request_id"] == first.json()["request_id"]
    assert held["status"] in ("queued", "sent")  # the other replica may have repaired it
    assert (recorded["kafka_partition"], recorded["kafka_offset"]) == (
        first.json()["kafka_partition"],
        first.json()["kafka_offset"],
    )
    assert len(records) == 1


@pytest.mark.postgres
async def test_a_command_left_unrecorded_by_a_stopped_replica_is_repaired_from_the_topic(
    start_api: StartApi, postgres_url: str
) -> None:
    topic = unique_topic()
    settings = {"database_url": postgres_url, "kafka_command_topic": topic}
    with start_api(**settings) as api:
        await _sql(postgres_url, _REFUSE_SENT)
        async with api.client() as http:
            first = (await http.post("/api/v1/commands", json=command())).json()
    # the replica stopped with the acknowledgement unrecorded; the database works again
    await _sql(postgres_url, _ALLOW_SENT)
    rows = await _sql(postgres_url, "SELECT status FROM commands")
    with start_api(**settings, repair_after_s=1.0) as restarted:
        async with restarted.client() as http:
            repaired = await _wait_for(http, first["request_id"], "sent")
    assert [row["status"] for row in rows] == ["queued"]
    assert (repaired["kafka_partition"], repaired["kafka_offset"]) == (
        first["kafka_partition"],
        first["kafka_offset"],
    )


@pytest.mark.postgres
async def test_a_keyed_batch_sent_to_two_replicas_at_once_is_published_once(
    start_api: StartApi, postgres_url: str
) -> None:
    topic = unique_topic()
    settings = {"database_url": postgres_url, "kafka_command_topic": topic}
    batch = {"commands": [command(device_id=f"dev-{n}") for n in range(50)]}
    headers = {"Idempotency-Key": "rollout-42", **CLIENT}
    with start_api(**settings) as one, start_api(**settings) as two:
        async with one.client() as a, two.client() as b:
            answers = await asyncio.gather(
                *(
                    http.post("/api/v1/commands/batch", json=batch, headers=headers)
                    for http in (a, b, a, b)
                )
            )
        records = await read_topic(one.settings.kafka_bootstrap_servers, topic, expect=50)
    assert [answer.status_code for answer in answers] == [202] * 4
    ids = [[r["request_id"] for r in answer.json()["results"]] for answer in answers]
    assert all(each == ids[0] for each in ids)
    assert sorted(json.loads(r.value)["request_id"] for r in records) == sorted(ids[0])
