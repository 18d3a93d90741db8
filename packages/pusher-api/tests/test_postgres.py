"""The status store on PostgreSQL: the same lifecycle as on SQLite, in a throwaway database."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import asyncpg
import pytest

from .conftest import RunningApi, command, unique_topic
from .test_lifecycle import report, wait_for_status

pytestmark = [pytest.mark.postgres, pytest.mark.kafka]

StartApi = Callable[..., AbstractContextManager[RunningApi]]


async def test_lifecycle_and_idempotency_on_postgresql(
    start_api: StartApi, postgres_url: str
) -> None:
    status_topic = unique_topic("status")
    with start_api(database_url=postgres_url, kafka_status_topic=status_topic) as api:
        bootstrap = api.settings.kafka_bootstrap_servers
        async with api.client() as http:
            headers = {"Idempotency-Key": "pg-1", "X-Client-Id": "pg-test"}
            first = (await http.post("/api/v1/commands", json=command(), headers=headers)).json()
            again = (await http.post("/api/v1/commands", json=command(), headers=headers)).json()
            batch = await http.post(
                "/api/v1/commands/batch", json={"commands": [command() for _ in range(100)]}
            )
            await report(bootstrap, status_topic, first["request_id"], "delivered")
            await report(bootstrap, status_topic, first["request_id"], "succeeded", "ok")
            await report(bootstrap, status_topic, first["request_id"], "delivered")
            done = await wait_for_status(http, first["request_id"], "succeeded")
            status = (await http.get("/api/v1/status")).json()
    assert again == first
    assert batch.json()["successful"] == 100
    assert (done["status"], done["detail"]) == ("succeeded", "ok")
    assert done["delivered_at"] <= done["finished_at"]
    assert status["commands_by_status"] == {"sent": 100, "succeeded": 1}
    connection = await asyncpg.connect(postgres_url.replace("+asyncpg", ""))
    try:
        assert await connection.fetchval("SELECT count(*) FROM commands") == 101
    finally:
        await connection.close()
