"""``/api/v1/backfill`` and ``/api/v1/coverage`` against the platform stand-in."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest
from energy_data_service.settings import Settings, load_settings
from entsoe_client.testing import FakePlatform

from .conftest import DE_LU, serve


async def test_a_backfill_runs_in_the_background_and_fills_coverage(
    settings: Settings, fake_platform: FakePlatform
) -> None:
    settings.scheduler.enabled = False  # the schedule stays out of this test
    window = {"start_time": "2026-09-01T00:00:00Z", "end_time": "2026-10-01T00:00:00Z"}
    async with serve(settings) as api:
        before = (await api.http.get("/api/v1/coverage", params=window)).json()
        (series,) = before["series"]
        assert series["area_code"] == DE_LU
        assert series["percent_complete"] == 0.0
        assert series["gaps"] == [
            {"start": "2026-09-01T00:00:00+00:00", "end": "2026-10-01T00:00:00+00:00"}
        ]

        started = await api.http.post(
            "/api/v1/backfill",
            json={
                "areas": ["DE_LU"],
                "data_types": ["actual_load"],
                "start": "2026-09-01",
                "end": "2026-10-01",
            },
        )
        assert started.status_code == 202, started.text
        job_id = started.json()["id"]
        deadline = time.monotonic() + 60
        while (job := (await api.http.get(f"/api/v1/backfill/{job_id}")).json())[
            "status"
        ] == "running":
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        assert job["status"] == "done", job
        assert job["chunks"] == {"done": 1}
        listed = (await api.http.get("/api/v1/backfill")).json()
        assert [b["id"] for b in listed] == [job_id]
        after = (await api.http.get("/api/v1/coverage", params=window)).json()
        assert after["series"][0]["percent_complete"] == 100.0
        assert after["series"][0]["gaps"] == []

        cancel = await api.http.post(f"/api/v1/backfill/{job_id}/cancel")
        assert cancel.status_code == 409
        assert "already ended" in cancel.json()["detail"]
        missing = await api.http.get("/api/v1/backfill/999")
        assert missing.status_code == 404
        bad = await api.http.post(
            "/api/v1/backfill",
            json={
                "areas": ["XX"],
                "data_types": ["actual_load"],
                "start": "2026-01-02",
                "end": "2026-01-01",
            },
        )
        assert bad.status_code == 400
        assert "unknown area 'XX'" in bad.json()["detail"]


@pytest.mark.parametrize("variable", ["ENTSOE__API_TOKEN", "ENTSOE_API_TOKEN"])
async def test_without_a_token_a_backfill_is_refused_at_once_and_nothing_is_stored(
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, variable: str
) -> None:
    """An empty token (``ENTSOE__API_TOKEN=``) is no token: 409 naming the variable, no job
    stored, instead of 202 and a backfill that fails in the background."""
    for name in list(os.environ):
        if name.upper().startswith("ENTSOE"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv(variable, "")
    monkeypatch.setenv("DATABASE__URL", database_url)
    monkeypatch.setenv("SCHEDULER__ENABLED", "false")
    settings = load_settings()
    assert settings.entsoe.token is None
    async with serve(settings) as api:
        refused = await api.http.post(
            "/api/v1/backfill",
            json={
                "areas": ["DE_LU"],
                "data_types": ["actual_load"],
                "start": "2026-09-01",
                "end": "2026-10-01",
            },
        )
        assert refused.status_code == 409, refused.text
        assert "ENTSOE__API_TOKEN" in refused.json()["detail"]
        assert (await api.http.get("/api/v1/backfill")).json() == []
        bad = await api.http.post(  # bad input is still told as such first
            "/api/v1/backfill",
            json={
                "areas": ["XX"],
                "data_types": ["actual_load"],
                "start": "2026-01-01",
                "end": "2026-01-02",
            },
        )
        assert bad.status_code == 400
        assert "unknown area 'XX'" in bad.json()["detail"]


async def test_a_backfill_of_a_border_runs_from_the_api(
    settings: Settings, fake_platform: FakePlatform
) -> None:
    settings.scheduler.enabled = False
    async with serve(settings) as api:
        started = await api.http.post(
            "/api/v1/backfill",
            json={
                "areas": ["FR"],
                "data_types": ["physical_flows", "actual_load"],
                "borders": ["DE_LU>FR"],
                "start": "2026-09-01",
                "end": "2026-09-03",
            },
        )
        assert started.status_code == 202, started.text
        job_id = started.json()["id"]
        assert started.json()["borders"] == [["10YFR-RTE------C", DE_LU]]
        deadline = time.monotonic() + 60
        while (job := (await api.http.get(f"/api/v1/backfill/{job_id}")).json())[
            "status"
        ] == "running":
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        assert job["status"] == "done", job
        assert job["chunks"] == {"done": 2}  # the load of FR, the flows FR←DE_LU
        flows = await api.http.get(
            "/api/v1/energy-data",
            params={
                "area_code": "FR",
                "data_type": "physical_flows",
                "out_area": "DE_LU",
                "start_time": "2026-09-01T00:00:00Z",
                "end_time": "2026-09-03T00:00:00Z",
                "limit": 1000,
            },
        )
        assert flows.status_code == 200, flows.text
        assert flows.json()["count"] == 48
        asked = {r.params.get("out_Domain") for r in fake_platform.requests}
        assert DE_LU in asked

        refused = await api.http.post(
            "/api/v1/backfill",
            json={
                "areas": ["FR"],
                "data_types": ["physical_flows"],
                "start": "2026-09-01",
                "end": "2026-09-03",
            },
        )
        assert refused.status_code == 400
        assert "directional: give borders" in refused.json()["detail"]
        wrong = await api.http.post(
            "/api/v1/backfill",
            json={
                "areas": ["FR"],
                "data_types": ["physical_flows"],
                "borders": ["DE_LU-FR"],
                "start": "2026-09-01",
                "end": "2026-09-03",
            },
        )
        assert wrong.status_code == 400
        assert "FROM>TO" in wrong.json()["detail"]
