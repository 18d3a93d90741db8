"""Status pushed to the caller: server-sent event streams and signed, retried webhooks.

Connector reports are real status records on the broker; the webhook receiver is a real HTTP
server on loopback that fails its first answer, so the retry is exercised.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from pusher_api.testing.server import serve_in_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .conftest import RunningApi, command, unique_topic
from .test_lifecycle import report

pytestmark = pytest.mark.kafka

StartApi = Callable[..., AbstractContextManager[RunningApi]]
SECRET = "webhook-test-secret"


@asynccontextmanager
async def event_stream(http: httpx.AsyncClient, path: str) -> AsyncIterator[EventReader]:
    async with http.stream("GET", path) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        yield EventReader(response.aiter_lines())


class EventReader:
    """Parses `event:`/`id:`/`data:` blocks of an SSE stream."""

    def __init__(self, lines: AsyncIterator[str]) -> None:
        self._lines = lines
        self.ended = False

    async def next(self, timeout: float = 10.0) -> dict[str, Any] | None:
        """The next event (its fields, `data` parsed), None when the stream ended."""
        fields: dict[str, Any] = {}
        async with asyncio.timeout(timeout):
            async for line in self._lines:
                if line.startswith(":"):
                    continue
                if not line:
                    if fields:
                        return fields
                    continue
                name, _, value = line.partition(": ")
                fields[name] = json.loads(value) if name == "data" else value
        self.ended = True
        return None


async def test_a_command_stream_starts_with_the_current_state_and_ends_at_a_final_one(
    start_api: StartApi,
) -> None:
    status_topic = unique_topic("status")
    with start_api(kafka_status_topic=status_topic) as api:
        bootstrap = api.settings.kafka_bootstrap_servers
        async with api.client() as http:
            rid = (await http.post("/api/v1/commands", json=command())).json()["request_id"]
            async with event_stream(http, f"/api/v1/commands/{rid}/events") as events:
                first = await events.next()
                await report(bootstrap, status_topic, rid, "delivered")
                delivered = await events.next()
                await report(bootstrap, status_topic, rid, "succeeded", "rebooted")
                succeeded = await events.next()
                end = await events.next()
            async with event_stream(http, f"/api/v1/commands/{rid}/events") as again:
                only = await again.next()
                after = await again.next()
            unknown = await http.get("/api/v1/commands/nope/events")

    assert first is not None
    assert delivered is not None
    assert succeeded is not None
    assert (first["event"], first["id"]) == ("status", f"{rid}:sent")
    assert [e["data"]["status"] for e in (first, delivered, succeeded)] == [
        "sent",
        "delivered",
        "succeeded",
    ]
    assert succeeded["data"]["detail"] == "rebooted"
    assert end is None  # the stream ended after the final state
    assert only is not None
    assert only["data"]["status"] == "succeeded"
    assert after is None
    assert unknown.status_code == 404


async def test_a_device_stream_shows_every_change_of_its_commands(start_api: StartApi) -> None:
    status_topic = unique_topic("status")
    with start_api(kafka_status_topic=status_topic) as api:
        bootstrap = api.settings.kafka_bootstrap_servers
        async with (
            api.client() as http,
            event_stream(http, "/api/v1/devices/sensor-001/events") as events,
        ):
            await asyncio.sleep(0.2)  # the stream is open before the commands are sent
            first = (await http.post("/api/v1/commands", json=command())).json()
            other_device = await http.post(
                "/api/v1/commands", json=command(device_id="someone-else")
            )
            second = (await http.post("/api/v1/commands", json=command())).json()
            await report(bootstrap, status_topic, first["request_id"], "delivered")
            seen = [await events.next() for _ in range(3)]
    assert other_device.status_code == 202
    assert [(e["data"]["request_id"], e["data"]["status"]) for e in seen if e] == [
        (first["request_id"], "sent"),
        (second["request_id"], "sent"),
        (first["request_id"], "delivered"),
    ]


@pytest.mark.postgres
async def test_a_stream_on_one_replica_follows_a_command_sent_through_another(
    start_api: StartApi, postgres_url: str
) -> None:
    status_topic = unique_topic("status")
    settings = {"kafka_status_topic": status_topic, "database_url": postgres_url}
    with start_api(**settings) as one, start_api(**settings) as two:
        bootstrap = one.settings.kafka_bootstrap_servers
        async with (
            one.client() as watching,
            two.client() as sending,
            event_stream(watching, "/api/v1/devices/sensor-001/events") as events,
        ):
            await asyncio.sleep(0.3)  # the stream is open before the command is sent
            posted = (await sending.post("/api/v1/commands", json=command())).json()
            await report(bootstrap, status_topic, posted["request_id"], "delivered")
            seen = [await events.next() for _ in range(2)]
    assert [(e["data"]["request_id"], e["data"]["status"]) for e in seen if e] == [
        (posted["request_id"], "sent"),
        (posted["request_id"], "delivered"),
    ]


@dataclass
class Receiver:
    """A webhook receiver that answers 500 to the first POST of each delivery id."""

    posts: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    failed_once: set[str] = field(default_factory=set)

    async def handle(self, request: Request) -> Response:
        body = await request.body()
        self.posts.append((dict(request.headers), body))
        delivery = request.headers["x-pusher-delivery"]
        if delivery not in self.failed_once:
            self.failed_once.add(delivery)
            return Response("try again", status_code=500)
        return Response(status_code=204)

    def delivered(self) -> list[tuple[dict[str, str], dict[str, Any]]]:
        """The POSTs answered 2xx (each delivery's second), in arrival order."""
        seen: set[str] = set()
        done = []
        for headers, body in self.posts:
            delivery = headers["x-pusher-delivery"]
            if delivery in seen:
                done.append((headers, json.loads(body)))
            seen.add(delivery)
        return done


@contextmanager
def webhook_receiver() -> Iterator[tuple[str, Receiver]]:
    receiver = Receiver()
    app = Starlette(routes=[Route("/hook", receiver.handle, methods=["POST"])])
    with serve_in_thread(app) as base_url:
        yield f"{base_url}/hook", receiver


async def _wait(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_webhooks_are_signed_retried_in_order_and_recorded(start_api: StartApi) -> None:
    status_topic = unique_topic("status")
    with (
        webhook_receiver() as (url, receiver),
        start_api(kafka_status_topic=status_topic, webhook_secret=SECRET) as api,
    ):
        bootstrap = api.settings.kafka_bootstrap_servers
        async with api.client() as http:
            rid = (await http.post("/api/v1/commands", json=command(callback_url=url))).json()[
                "request_id"
            ]
            await report(bootstrap, status_topic, rid, "delivered")
            await report(bootstrap, status_topic, rid, "succeeded")
            await _wait(lambda: len(receiver.delivered()) == 3)
            status = (await http.get(f"/api/v1/commands/{rid}/status")).json()

    delivered = receiver.delivered()
    assert [body["event"] for _, body in delivered] == ["sent", "delivered", "succeeded"]
    for headers, body in delivered:
        assert body["request_id"] == rid
        raw = json.dumps(body, separators=(",", ":")).encode()
        expected = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
        assert headers["x-pusher-signature"] == expected
        assert headers["x-pusher-event"] == body["event"]
    assert len(receiver.posts) == 6  # each delivery failed once, then went through
    deliveries = status["webhook_deliveries"]
    assert [d["status"] for d in deliveries] == ["sent", "delivered", "succeeded"]
    assert all(d["attempts"] == 2 and d["delivered_at"] for d in deliveries)
    assert all(d["response_status"] == 204 and d["next_attempt_at"] is None for d in deliveries)


async def test_webhook_url_is_the_default_and_final_only_skips_the_rest(
    start_api: StartApi,
) -> None:
    status_topic = unique_topic("status")
    with (
        webhook_receiver() as (url, receiver),
        start_api(kafka_status_topic=status_topic, webhook_url=url) as api,
    ):
        bootstrap = api.settings.kafka_bootstrap_servers
        async with api.client() as http:
            rid = (
                await http.post("/api/v1/commands", json=command(callback_events="final"))
            ).json()["request_id"]
            await report(bootstrap, status_topic, rid, "delivered")
            await report(bootstrap, status_topic, rid, "failed", "no space left")
            await _wait(lambda: len(receiver.delivered()) == 1)
            await asyncio.sleep(1.0)  # nothing else follows
    [(headers, body)] = receiver.delivered()
    assert (body["event"], body["detail"]) == ("failed", "no space left")
    assert "x-pusher-signature" not in headers  # no WEBHOOK_SECRET: unsigned
