"""Hostile command bodies: deep nesting is a 422 of its own and never fails its neighbours.

Before the depth bound a payload nested 256 levels (about 600 bytes) parsed but could not be
written back as a Kafka record: the request answered 500 and failed every command coalesced
with it, leaving their rows `queued` for good.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest

from .conftest import RunningApi, command, unique_topic

StartApi = Callable[..., AbstractContextManager[RunningApi]]


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def deep_body(depth: int) -> bytes:
    return (
        '{"device_id": "deep-1", "command_type": "x", "payload": {"a": ' + nested(depth) + "}}"
    ).encode()


@pytest.mark.parametrize("depth", [65, 256, 1000])
async def test_a_deeply_nested_command_is_refused_with_422(api: RunningApi, depth: int) -> None:
    async with api.client() as http:
        answer = await http.post(
            "/api/v1/commands",
            content=deep_body(depth),
            headers={"content-type": "application/json"},
        )
    assert answer.status_code == 422, answer.text
    assert "deep" in answer.text


async def test_a_batch_nested_100_000_deep_is_refused_with_422(api: RunningApi) -> None:
    body = '{"commands": [{"device_id": "d", "command_type": "x", "payload": {"a": '
    body += nested(100_000) + "}}]}"
    async with api.client() as http:
        answer = await http.post(
            "/api/v1/commands/batch",
            content=body.encode(),
            headers={"content-type": "application/json"},
        )
    assert answer.status_code == 422, answer.text


async def test_a_deep_item_of_a_batch_fails_alone(api: RunningApi) -> None:
    items = '[{"device_id": "ok-1", "command_type": "x"}, ' + deep_body(256).decode() + "]"
    async with api.client() as http:
        answer = await http.post(
            "/api/v1/commands/batch",
            content=('{"commands": ' + items + "}").encode(),
            headers={"content-type": "application/json"},
        )
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["successful"] == 1, body
    assert body["failed"] == 1, body


@pytest.mark.chaos
async def test_deep_commands_beside_500_others_fail_alone(start_api: StartApi) -> None:
    with start_api(kafka_command_topic=unique_topic()) as api:
        async with api.client() as http:

            async def good(i: int) -> Any:
                return await http.post(
                    "/api/v1/commands", json=command(device_id=f"dev-{i % 50}", payload={"i": i})
                )

            async def bad() -> Any:
                return await http.post(
                    "/api/v1/commands",
                    content=deep_body(256),
                    headers={"content-type": "application/json"},
                )

            answers = await asyncio.gather(
                *[good(i) for i in range(500)], *[bad() for _ in range(10)]
            )
            codes = [a.status_code for a in answers]
            assert codes[:500] == [202] * 500, sorted(set(codes[:500]))
            assert codes[500:] == [422] * 10
            queued = 0
            for a in answers[:500]:
                rid = a.json()["request_id"]
                status = (await http.get(f"/api/v1/commands/{rid}/status")).json()["status"]
                queued += status == "queued"
    print(f"\n500 commands beside 10 nested 256 deep: 500 accepted, {queued} left queued")
    assert queued == 0
