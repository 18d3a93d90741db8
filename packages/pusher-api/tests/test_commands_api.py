"""POST /api/v1/commands and /batch against a real broker: records, validation, limits."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pusher_api.messages import DeviceCommand
from pusher_api.settings import Settings
from pusher_api.testing.kafka import read_topic

from .conftest import RunningApi, command, unique_topic

pytestmark = pytest.mark.kafka

StartApi = Callable[..., AbstractContextManager[RunningApi]]


async def test_a_command_is_one_record_keyed_by_device_with_headers(start_api: StartApi) -> None:
    topic = unique_topic()
    expires = datetime.now(UTC) + timedelta(hours=1)
    body = command(
        device_id="meter-42",
        command_type="firmware_update",
        payload={"url": "https://fw.example/v2.bin", "sha256": "ab" * 32},
        protocol="coap",
        parser_script_ref="scripts/meter.lua",
        metadata={"ticket": "OPS-1"},
        qos=2,
        retain=True,
        confirmable=False,
        priority="high",
        expires_at=expires.isoformat(),
    )
    with start_api(kafka_command_topic=topic) as api:
        async with api.client() as http:
            response = await http.post("/api/v1/commands", json=body)
        assert response.status_code == 202, response.text
        answer = response.json()
        assert answer["success"] is True
        assert answer["message"] == "Command published to Kafka"
        records = await read_topic(api.settings.kafka_bootstrap_servers, topic, expect=1)

    assert len(records) == 1
    record = records[0]
    assert (record.partition, record.offset) == (answer["kafka_partition"], answer["kafka_offset"])
    assert record.key == b"meter-42"
    assert dict(record.headers) == {
        "request_id": answer["request_id"].encode(),
        "command_type": b"firmware_update",
    }
    value = json.loads(record.value)
    assert value["request_id"] == answer["request_id"]
    assert value["timestamp"] == answer["timestamp"]
    for field in ("device_id", "command_type", "payload", "protocol", "parser_script_ref"):
        assert value[field] == body[field]
    assert (value["metadata"], value["qos"], value["retain"]) == ({"ticket": "OPS-1"}, 2, True)
    assert (value["confirmable"], value["priority"]) == (False, "high")
    assert datetime.fromisoformat(value["expires_at"]) == expires
    assert DeviceCommand.from_kafka(record.value).request_id == answer["request_id"]


async def test_one_devices_commands_keep_their_order(start_api: StartApi) -> None:
    topic = unique_topic()
    with start_api(kafka_command_topic=topic) as api:
        async with api.client() as http:
            for step in range(5):
                response = await http.post(
                    "/api/v1/commands", json=command(device_id="valve-7", payload={"step": step})
                )
                assert response.status_code == 202
        records = await read_topic(api.settings.kafka_bootstrap_servers, topic, expect=5)
    assert len({record.partition for record in records}) == 1
    steps = [
        json.loads(r.value)["payload"]["step"] for r in sorted(records, key=lambda r: r.offset)
    ]
    assert steps == [0, 1, 2, 3, 4]


@pytest.mark.parametrize(
    ("body", "failing_field", "message_part"),
    [
        ({"command_type": "reboot"}, "device_id", "Field required"),
        (command(protocol="zigbee"), "protocol", "'mqtt', 'coap', 'lwm2m' or 'http'"),
        (command(qos=3), "qos", "less than or equal to 2"),
        (command(device_id="a/b#"), "device_id", "should match pattern"),
        (command(expires_at="2020-01-01T00:00:00Z"), "expires_at", "expires_at is in the past"),
        (command(expires_at="2999-01-01T00:00:00"), "expires_at", "timezone"),
        (command(payload=[1, 2]), "payload", "valid dictionary"),
        (command(colour="red"), "colour", "Extra inputs are not permitted"),
        (command(priority="urgent"), "priority", "'low', 'normal', 'high' or 'critical'"),
    ],
)
async def test_invalid_commands_are_422_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, Any], failing_field: str, message_part: str
) -> None:
    response = await client.post("/api/v1/commands", json=body)
    assert response.status_code == 422
    errors = response.json()["detail"]
    failing = [error for error in errors if error["loc"][-1] == failing_field]
    assert failing, errors
    assert message_part in failing[0]["msg"]


async def test_request_id_and_timestamp_are_the_services_to_assign(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/api/v1/commands", json=command(request_id="mine", timestamp="2030-01-01T00:00:00Z")
    )
    assert response.status_code == 422
    errors = {error["loc"][-1]: error["msg"] for error in response.json()["detail"]}
    assert errors == {
        "request_id": "request_id is assigned by the service: omit it",
        "timestamp": "timestamp is assigned by the service: omit it",
    }


async def test_an_overlong_idempotency_key_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/commands", json=command(), headers={"Idempotency-Key": "k" * 201}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]


async def test_malformed_json_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/commands", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422


async def test_oversized_body_is_413_by_content_length(start_api: StartApi) -> None:
    with start_api(max_command_bytes=1000) as api:
        async with api.client() as http:
            small = await http.post("/api/v1/commands", json=command(payload={"x": "a" * 500}))
            big = await http.post("/api/v1/commands", json=command(payload={"x": "a" * 2000}))
    assert small.status_code == 202
    assert big.status_code == 413
    assert "larger than MAX_COMMAND_BYTES=1000 bytes" in big.json()["detail"]


async def test_a_batch_over_max_batch_bytes_is_413_before_it_is_parsed(start_api: StartApi) -> None:
    limit = 64 * 1024
    fits = {"commands": [command(payload={"x": "a" * 500}) for _ in range(100)]}
    too_big = {"commands": [command(payload={"x": "a" * 500}) for _ in range(200)]}
    not_json_but_big = b"{" * (limit + 1)  # parsing it would be a 422

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(100):
            yield b" " * 1000

    with start_api(max_batch_bytes=limit) as api:
        async with api.client() as http:
            small = await http.post("/api/v1/commands/batch", json=fits)
            big = await http.post("/api/v1/commands/batch", json=too_big)
            garbage = await http.post(
                "/api/v1/commands/batch",
                content=not_json_but_big,
                headers={"content-type": "application/json"},
            )
            streamed = await http.post(
                "/api/v1/commands/batch",
                content=chunks(),
                headers={"content-type": "application/json"},
            )
    assert len(json.dumps(fits)) < limit < len(json.dumps(too_big))
    assert small.status_code == 202
    assert (big.status_code, garbage.status_code, streamed.status_code) == (413, 413, 413)
    assert big.json()["detail"] == (
        f"batch body larger than MAX_BATCH_BYTES={limit} bytes: send fewer commands per batch"
    )


def test_max_batch_bytes_defaults_to_4_mib(make_settings: Callable[..., Settings]) -> None:
    assert make_settings().max_batch_bytes == 4 * 1024 * 1024


async def test_oversized_chunked_body_is_413_by_bytes_received(start_api: StartApi) -> None:
    payload = json.dumps(command(payload={"x": "a" * 5000})).encode()

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: chunked transfer
        for start in range(0, len(payload), 1000):
            yield payload[start : start + 1000]

    with start_api(max_command_bytes=1000) as api:
        async with api.client() as http:
            response = await http.post(
                "/api/v1/commands", content=chunks(), headers={"content-type": "application/json"}
            )
    assert response.status_code == 413


async def test_api_keys_are_required_when_configured(start_api: StartApi) -> None:
    with start_api(api_keys=["key-one", "key-two"]) as api:
        async with api.client() as http:
            missing = await http.post("/api/v1/commands", json=command())
            wrong = await http.post(
                "/api/v1/commands", json=command(), headers={"X-API-Key": "key-three"}
            )
            right = await http.post(
                "/api/v1/commands", json=command(), headers={"X-API-Key": "key-two"}
            )
            status_without_key = await http.get("/api/v1/status")
            health = await http.get("/health")
    assert missing.status_code == wrong.status_code == status_without_key.status_code == 401
    assert "X-API-Key" in missing.json()["detail"]
    assert right.status_code == 202
    assert health.status_code == 200


async def test_rate_limit_per_key_is_429_with_retry_after(start_api: StartApi) -> None:
    with start_api(api_keys=["alpha", "beta"], rate_limit_per_minute=3) as api:
        async with api.client() as http:
            alpha = [
                await http.post("/api/v1/commands", json=command(), headers={"X-API-Key": "alpha"})
                for _ in range(4)
            ]
            beta = await http.post(
                "/api/v1/commands", json=command(), headers={"X-API-Key": "beta"}
            )
    assert [r.status_code for r in alpha] == [202, 202, 202, 429]
    assert int(alpha[3].headers["Retry-After"]) >= 1
    assert "rate limit of 3 requests per minute" in alpha[3].json()["detail"]
    assert beta.status_code == 202  # another key has its own budget


async def test_batch_reports_each_command_and_publishes_the_valid_ones(
    start_api: StartApi,
) -> None:
    topic = unique_topic()
    commands = [command(device_id=f"dev-{i}", payload={"i": i}) for i in range(50)]
    commands[7] = command(protocol="smoke-signals")
    commands[31] = {"device_id": "dev-31"}
    with start_api(kafka_command_topic=topic) as api:
        async with api.client() as http:
            response = await http.post("/api/v1/commands/batch", json={"commands": commands})
        records = await read_topic(api.settings.kafka_bootstrap_servers, topic, expect=48)
    assert response.status_code == 202
    answer = response.json()
    assert (answer["total_commands"], answer["successful"], answer["failed"]) == (50, 48, 2)
    results = answer["results"]
    assert [r["index"] for r in results] == list(range(50))
    assert results[7]["success"] is False
    assert results[7]["errors"][0]["loc"] == ["protocol"]
    assert results[31]["errors"][0]["loc"] == ["command_type"]
    published = {
        r["request_id"]: (r["kafka_partition"], r["kafka_offset"]) for r in results if r["success"]
    }
    on_topic = {json.loads(r.value)["request_id"]: (r.partition, r.offset) for r in records}
    assert on_topic == published


async def test_a_full_batch_is_stored_and_acknowledged_row_by_row(start_api: StartApi) -> None:
    """1,000 commands: the store writes them in several multi-row statements; every row must
    end as sent with the partition and offset its record really has."""
    topic = unique_topic()
    commands = [command(device_id=f"dev-{i % 37}", payload={"i": i}) for i in range(1000)]
    with start_api(kafka_command_topic=topic) as api:
        async with api.client() as http:
            response = await http.post("/api/v1/commands/batch", json={"commands": commands})
            answer = response.json()
            sample = [answer["results"][i] for i in (0, 499, 500, 501, 999)]
            statuses = [
                (await http.get(f"/api/v1/commands/{r['request_id']}/status")).json()
                for r in sample
            ]
            counts = (await http.get("/api/v1/status")).json()["commands_by_status"]
        records = await read_topic(api.settings.kafka_bootstrap_servers, topic, expect=1000)
    assert response.status_code == 202
    assert answer["successful"] == 1000
    assert counts == {"sent": 1000}
    on_topic = {json.loads(r.value)["request_id"]: (r.partition, r.offset) for r in records}
    assert on_topic == {
        r["request_id"]: (r["kafka_partition"], r["kafka_offset"]) for r in answer["results"]
    }
    for result, stored in zip(sample, statuses, strict=True):
        assert stored["status"] == "sent"
        assert (stored["kafka_partition"], stored["kafka_offset"]) == (
            result["kafka_partition"],
            result["kafka_offset"],
        )
        assert json.loads(records[0].value)["payload"]["i"] in range(1000)


async def test_batch_limits(start_api: StartApi) -> None:
    with start_api(max_batch_size=10) as api:
        async with api.client() as http:
            too_many = await http.post(
                "/api/v1/commands/batch", json={"commands": [command()] * 11}
            )
            empty = await http.post("/api/v1/commands/batch", json={"commands": []})
            not_a_list = await http.post("/api/v1/commands/batch", json={"commands": "reboot"})
    assert too_many.status_code == 422
    assert "MAX_BATCH_SIZE=10" in too_many.json()["detail"]
    assert empty.status_code == not_a_list.status_code == 422


async def test_status_of_an_unknown_command_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/commands/no-such-id/status")
    assert response.status_code == 404
    assert "no-such-id" in response.json()["detail"]


async def test_concurrent_posts_all_land(start_api: StartApi) -> None:
    topic = unique_topic()
    with start_api(kafka_command_topic=topic) as api:
        async with api.client() as http:
            responses = await asyncio.gather(
                *(
                    http.post("/api/v1/commands", json=command(device_id=f"d{i}"))
                    for i in range(200)
                )
            )
        records = await read_topic(api.settings.kafka_bootstrap_servers, topic, expect=200)
    assert {r.status_code for r in responses} == {202}
    assert sorted(json.loads(r.value)["request_id"] for r in records) == sorted(
        r.json()["request_id"] for r in responses
    )


def test_header_answers_as_starlette_headers_get() -> None:
    """`deps.header`, the command routes' header lookup, gives what `request.headers.get`
    gives: the first of repeated headers, latin-1 text, None for one that is missing."""
    from pusher_api.deps import header
    from starlette.requests import Request

    raw = [
        (b"host", b"127.0.0.1"),
        (b"traceparent", b"first"),
        (b"traceparent", b"second"),
        (b"x-client-id", "caf\u00e9".encode("latin-1")),
        (b"idempotency-key", b""),
    ]
    request = Request({"type": "http", "method": "POST", "path": "/", "headers": raw})
    for name in ("traceparent", "x-client-id", "idempotency-key", "x-api-key", "host"):
        assert header(request, name.encode()) == request.headers.get(name)
    assert header(request, b"traceparent") == "first"
    assert header(request, b"x-client-id") == "caf\u00e9"
    assert header(request, b"idempotency-key") == ""
    assert header(request, b"x-api-key") is None
