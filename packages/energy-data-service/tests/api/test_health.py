"""Health, metrics, API keys, CORS and the OpenAPI document, over real HTTP."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from energy_data_service.repositories.runs import CollectionRun
from service_common.testing import FaultyTcpProxy

from .conftest import DE_LU, LiveApi, api_settings, serve

POSTGRES_HOST, POSTGRES_PORT = "127.0.0.1", 5432


async def test_health_reports_database_collection_off_and_freshness(live_api: LiveApi) -> None:
    assert (await live_api.http.get("/health")).json() == {"status": "ok"}
    finished = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    for success, at in ((True, finished), (False, finished + timedelta(hours=1))):
        await live_api.container.runs.record(
            CollectionRun("scheduled", DE_LU, "actual_load", None, None, at, at, 4, success)
        )
    answer = await live_api.http.get("/api/v1/health")
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "degraded"
    assert body["database"]["ok"] is True
    assert body["scheduler"]["collection"] == "off"
    assert "ENTSOE__API_TOKEN" in body["scheduler"]["reason"]
    assert body["series"] == [
        {
            "area_code": DE_LU,
            "area": "DE_LU",
            "data_type": "actual_load",
            "last_success_at": "2026-01-02T03:04:00+00:00",
        }
    ]
    metrics = await live_api.http.get("/metrics")
    assert 'energy_data_http_requests_total{method="GET",route="/api/v1/health",status="200"}' in (
        metrics.text
    )
    assert "energy_data_scheduler_leader 0.0" in metrics.text


async def test_openapi_and_docs(live_api: LiveApi) -> None:
    schema = (await live_api.http.get("/openapi.json")).json()
    for path in (
        "/api/v1/energy-data",
        "/api/v1/energy-data/latest",
        "/api/v1/energy-data/aggregated",
        "/api/v1/coverage",
        "/api/v1/backfill",
        "/api/v1/jobs",
        "/api/v1/health",
    ):
        assert path in schema["paths"]
    assert (await live_api.http.get("/docs")).status_code == 200


async def test_api_keys_are_required_when_configured(sqlite_url: str) -> None:
    settings = api_settings(sqlite_url, api={"keys": ["k1-secret", "k2-secret"]})
    async with serve(settings) as api:
        path, params = "/api/v1/energy-data/latest", {"area_code": "FR", "data_type": "actual_load"}
        missing = await api.http.get(path, params=params)
        assert missing.status_code == 401
        assert "X-API-Key" in missing.json()["detail"]
        wrong = await api.http.get(path, params=params, headers={"X-API-Key": "k1-secreT"})
        assert wrong.status_code == 401
        right = await api.http.get(path, params=params, headers={"X-API-Key": "k2-secret"})
        assert right.status_code == 404  # authorised; nothing stored yet
        assert (await api.http.get("/health")).status_code == 200


async def test_cors_allows_configured_origins_and_never_wildcard_with_credentials(
    sqlite_url: str,
) -> None:
    settings = api_settings(sqlite_url, api={"cors_origins": ["https://app.example"]})
    async with serve(settings) as api:
        answer = await api.http.get("/health", headers={"Origin": "https://app.example"})
        assert answer.headers["access-control-allow-origin"] == "https://app.example"
        assert answer.headers["access-control-allow-credentials"] == "true"
        other = await api.http.get("/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
    async with serve(api_settings(sqlite_url, api={"cors_origins": ["*"]})) as api:
        answer = await api.http.get("/health", headers={"Origin": "https://any.example"})
        assert answer.headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in answer.headers


@pytest.mark.postgres
async def test_database_outage_is_503_then_recovers_without_restart(postgres_url: str) -> None:
    # The outage is a fault proxy refusing connections, not a stopped cluster: stopping the
    # shared server would fail every other test running against it at the same time.
    with FaultyTcpProxy(POSTGRES_HOST, POSTGRES_PORT) as proxy:
        url = postgres_url.replace(f":{POSTGRES_PORT}/", f":{proxy.port}/")
        async with serve(api_settings(url)) as api:
            assert (await api.http.get("/api/v1/health")).status_code == 200
            proxy.refuse()
            down = await api.http.get("/api/v1/health")
            assert down.status_code == 503
            assert down.json()["database"]["ok"] is False
            data = await api.http.get(
                "/api/v1/energy-data", params={"area_code": "FR", "data_type": "actual_load"}
            )
            assert data.status_code == 503
            assert data.json() == {"detail": "the database is unavailable; retry shortly"}
            proxy.restore()
            for _ in range(50):
                answer = await api.http.get("/api/v1/health")
                if answer.status_code == 200:
                    break
                await asyncio.sleep(0.2)
            assert answer.status_code == 200, answer.text
            assert answer.json()["database"]["ok"] is True
