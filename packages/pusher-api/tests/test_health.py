"""Health, status and metrics endpoints report what happened."""

from __future__ import annotations

import httpx
import pytest

from .conftest import command

pytestmark = pytest.mark.kafka


async def test_status_and_metrics_count_what_happened(client: httpx.AsyncClient) -> None:
    assert (await client.post("/api/v1/commands", json=command())).status_code == 202
    assert (await client.post("/api/v1/commands", json=command(qos=9))).status_code == 422
    batch = {"commands": [command(), command(protocol="pigeon")]}
    assert (await client.post("/api/v1/commands/batch", json=batch)).status_code == 202

    health = (await client.get("/health")).json()
    status = (await client.get("/api/v1/status")).json()
    metrics = (await client.get("/api/v1/metrics")).json()
    prometheus = await client.get("/metrics")

    assert health == {"status": "ok", "kafka_connected": True, "store_connected": True}
    assert status["kafka_connected"] is True
    assert status["status_consumer_connected"] is True
    assert status["uptime_s"] > 0
    assert status["last_error"] is None
    assert status["commands_by_status"] == {"sent": 2}
    assert metrics["pusher_commands"] == {
        "published": 2.0,
        "rejected": 2.0,
        "unavailable": 0.0,
        "duplicate": 0.0,
    }
    assert metrics["publish_seconds"]["count"] == 2.0
    assert prometheus.headers["content-type"].startswith("text/plain")
    assert 'pusher_commands_total{outcome="published"} 2.0' in prometheus.text


async def test_openapi_documents_the_routes(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert {
        "/api/v1/commands",
        "/api/v1/commands/batch",
        "/api/v1/commands/{request_id}/status",
        "/health",
        "/api/v1/status",
        "/api/v1/metrics",
    } <= set(paths)


async def test_openapi_documents_the_bodies_the_command_routes_read(
    client: httpx.AsyncClient,
) -> None:
    schema = (await client.get("/openapi.json")).json()
    components = schema["components"]["schemas"]
    for path, model in (
        ("/api/v1/commands", "CommandRequest"),
        ("/api/v1/commands/batch", "BatchRequest"),
    ):
        operation = schema["paths"][path]["post"]
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        assert body == {"$ref": f"#/components/schemas/{model}"}
        assert {"X-API-Key", "Idempotency-Key"} <= {p["name"] for p in operation["parameters"]}
    command_fields = set(components["CommandRequest"]["properties"])
    assert {"device_id", "command_type", "protocol"} <= command_fields
    assert components["Protocol"]["enum"] == ["mqtt", "coap", "lwm2m", "http"]
    assert {"CommandAccepted", "BatchAccepted"} <= set(components)
