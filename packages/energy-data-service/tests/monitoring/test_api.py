"""Monitoring, alerts and quality over real HTTP (uvicorn on loopback), SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from energy_data_service.api.main import create_app
from energy_data_service.container import Container
from energy_data_service.domain import EnergyPoint
from energy_data_service.repositories.runs import CollectionRun
from entsoe_client.testing import FakePlatform

from .receivers import live_server

DE_LU = "10Y1001A1001A82H"
DAY = datetime(2024, 3, 31, tzinfo=UTC)  # 2024-03-31 is the short DST day in Berlin
LOCAL_DAY_START = datetime(2024, 3, 30, 23, tzinfo=UTC)


def points(start: datetime, count: int, skip: set[int]) -> list[EnergyPoint]:
    fetched = datetime(2024, 4, 1, tzinfo=UTC)
    return [
        EnergyPoint(
            DE_LU,
            "actual_load",
            "A04",
            "PT15M",
            0,
            start + i * timedelta(minutes=15),
            50_000.0 + i,
            "MAW",
            "A01",
            "doc-1",
            1,
            fetched,
            fetched,
        )
        for i in range(count)
        if i not in skip
    ]


def run(minute: int, success: bool, response_ms: float, error: str | None = None) -> CollectionRun:
    at = datetime.now(UTC) - timedelta(hours=1) + timedelta(minutes=minute)
    return CollectionRun(
        run_kind="scheduled",
        area_code=DE_LU,
        data_type="actual_load",
        window_start=None,
        window_end=None,
        started_at=at,
        finished_at=at + timedelta(seconds=1),
        points=0 if not success else 96,
        success=success,
        error_class=error,
        error_text=f"{error}: boom" if error else None,
        platform_response_ms=response_ms,
        processing_ms=5.0,
    )


@pytest.fixture
async def container(database_url: str, fake_platform: FakePlatform):
    from energy_data_service.settings import Settings

    settings = Settings(
        database={"url": database_url},
        entsoe={"api_token": None},
        collection={"areas": ["DE_LU"], "data_types": ["actual_load"]},
        alerts={"rules": ["stale_series", "success_rate"], "success_rate_min_runs": 4},
    )
    async with Container(settings) as built:
        yield built


async def test_monitoring_alerts_and_quality_routes(container: Container):
    for minute, ok, ms, error in [
        (0, True, 100, None),
        (10, False, 200, "ServerError"),
        (20, True, 300, None),
        (30, False, 400, "RateLimitError"),
    ]:
        await container.runs.record(run(minute, ok, ms, error))
    await container.points.upsert(points(LOCAL_DAY_START, 92, skip={5, 6, 7}))
    await container.alert_service.drain()

    async with live_server(create_app(container)) as http:
        rates = (await http.get("/api/v1/monitoring/success-rates")).json()
        assert rates == [
            {
                "area": "DE_LU",
                "data_type": "actual_load",
                "runs": 4,
                "successes": 2,
                "success_percent": 50.0,
            }
        ]
        latency = (await http.get("/api/v1/monitoring/latency")).json()
        assert latency["overall"] == {
            "count": 4,
            "p50_ms": 250.0,
            "p90_ms": 370.0,
            "p99_ms": 397.0,
            "max_ms": 400.0,
        }
        assert latency["error_classes"] == {"ServerError": 1, "RateLimitError": 1}
        [stale] = (await http.get("/api/v1/monitoring/staleness")).json()
        assert stale["stale"] is True
        assert stale["last_end"].startswith("2024-03-31T22:00:00")
        summary = (await http.get("/api/v1/monitoring/summary")).json()
        assert (summary["runs"], summary["failed_runs"], summary["points"]) == (4, 2, 192)
        assert summary["failing_series"] == ["DE_LU/actual_load"]
        assert summary["stale_series"] == ["DE_LU/actual_load"]
        bad = await http.get(
            "/api/v1/monitoring/latency",
            params={"start_time": "2024-02-01T00:00Z", "end_time": "2024-01-01T00:00Z"},
        )
        assert bad.status_code == 400
        assert "must be before" in bad.json()["detail"]

        # Alerts: the success rate (50 % < 90 %) and the stale series both fire.
        await container.alert_service.evaluate()
        opened = (await http.get("/api/v1/alerts", params={"state": "open"})).json()
        assert sorted(a["rule"] for a in opened) == ["stale_series", "success_rate"]
        first = opened[0]["id"]
        acked = await http.post(f"/api/v1/alerts/{first}/acknowledge", json={"by": "ops"})
        assert acked.status_code == 200
        assert (acked.json()["state"], acked.json()["acknowledged_by"]) == ("acknowledged", "ops")
        assert len((await http.get("/api/v1/alerts", params={"state": "open"})).json()) == 1
        missing = await http.post("/api/v1/alerts/999999/acknowledge")
        assert missing.status_code == 404
        assert "no alert with id 999999" in missing.json()["detail"]
        assert (await http.get("/api/v1/alerts", params={"state": "closed"})).status_code == 422
        # Acknowledged alerts stay deduplicated: evaluating again opens nothing new.
        await container.alert_service.evaluate()
        assert len((await http.get("/api/v1/alerts")).json()) == 2

        # Quality: the short DST day has 92 quarter-hours, three are missing.
        report = (await http.get("/api/v1/quality/report", params={"date": "2024-03-31"})).json()
        [entry] = report["series"]
        assert (entry["expected_intervals"], entry["present_points"]) == (92, 89)
        assert entry["missing_intervals"] == 3
        assert entry["gaps"] == [
            {"start": "2024-03-31T00:15:00+00:00", "end": "2024-03-31T01:00:00+00:00"}
        ]
        # (50·89/92 + 20 + 10 + 10 + 5) / 95 → 98.3
        assert entry["score"] == 98.3
        scores = (
            await http.get(
                "/api/v1/quality/scores",
                params={"start_date": "2024-03-25", "end_date": "2024-03-31"},
            )
        ).json()
        assert [(s["day"], s["score"], s["missing"]) for s in scores] == [("2024-03-31", 98.3, 3)]
        future = await http.get("/api/v1/quality/report", params={"date": "2999-01-01"})
        assert future.status_code == 400
        unknown = await http.get("/api/v1/quality/report", params={"area_code": "XX"})
        assert unknown.status_code == 400
        assert "unknown area" in unknown.json()["detail"]

        metrics = (await http.get("/metrics")).text
        assert 'energy_data_series_overdue_seconds{area="DE_LU",data_type="actual_load"}' in metrics
        score_line = (
            'energy_data_quality_score{area="DE_LU",data_type="actual_load",resolution="PT15M"}'
        )
        assert f"{score_line} 98.3" in metrics
        assert 'energy_data_alerts_active{rule="success_rate"} 1.0' in metrics
