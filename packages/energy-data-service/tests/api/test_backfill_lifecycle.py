"""Backfill jobs always end: cancelled, failed with the error, or resumed after a crash."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import httpx
from energy_data_service.settings import Settings
from entsoe_client.testing import FakePlatform

from .conftest import DE_LU, api_settings, serve

YEAR = {
    "areas": ["DE_LU"],
    "data_types": ["actual_load"],
    "start": "2025-01-01",
    "end": "2026-01-01",
}


async def _until(http: httpx.AsyncClient, job_id: int, done: Any, seconds: float = 60) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        job = (await http.get(f"/api/v1/backfill/{job_id}")).json()
        if done(job):
            return job
        assert time.monotonic() < deadline, job
        await asyncio.sleep(0.05)


async def test_a_cancelled_backfill_ends_cancelled(
    settings: Settings, fake_platform: FakePlatform
) -> None:
    settings.scheduler.enabled = False
    fake_platform.latency = 0.2
    async with serve(settings) as api:
        job_id = (await api.http.post("/api/v1/backfill", json=YEAR)).json()["id"]
        await _until(api.http, job_id, lambda job: job["chunks"].get("done", 0) >= 1)
        cancel = await api.http.post(f"/api/v1/backfill/{job_id}/cancel")
        assert cancel.status_code == 200, cancel.text
        job = await _until(api.http, job_id, lambda job: job["status"] != "running")
        assert job["status"] == "cancelled", job
        assert job["finished_at"] is not None
        assert 1 <= job["chunks"]["done"] < 12
        again = await api.http.post(f"/api/v1/backfill/{job_id}/cancel")
        assert again.status_code == 409


async def test_a_backfill_whose_work_raises_ends_failed_with_the_error(
    settings: Settings,
) -> None:
    settings.scheduler.enabled = False
    async with serve(settings) as api:
        # Written past the API's bounds on purpose: the chunk plan cannot be computed.
        job_id = await api.container.backfills.create_job(
            [DE_LU],
            ["actual_load"],
            datetime(2026, 1, 1, tzinfo=UTC),
            datetime(9999, 12, 31, 23, tzinfo=UTC),
        )
        service = await api.container.backfill_service()
        try:
            await service.run_job(job_id)
        except Exception as error:
            raised = error
        else:
            raise AssertionError("the plan past year 9999 must fail")
        job = (await api.http.get(f"/api/v1/backfill/{job_id}")).json()
        assert job["status"] == "failed", job
        assert type(raised).__name__ in job["error"]
        assert job["lease_until"] is None


async def test_serve_resumes_a_backfill_whose_process_died(
    settings: Settings, fake_platform: FakePlatform
) -> None:
    settings.scheduler.enabled = False
    async with serve(settings) as api:
        orphan = await api.container.backfills.create_job(
            [DE_LU],
            ["actual_load"],
            datetime(2025, 1, 1, tzinfo=UTC),
            datetime(2025, 3, 1, tzinfo=UTC),
            owner="gone-host:1",
            lease_seconds=-1,  # as if its process died a while ago
        )
        assert (await api.http.get(f"/api/v1/backfill/{orphan}")).json()["status"] == "interrupted"
    async with serve(settings) as api:  # a restart of `serve`
        job = await _until(api.http, orphan, lambda job: job["status"] != "running")
        assert job["status"] == "done", job
        assert job["chunks"] == {"done": 2}
        assert job["owner"] != "gone-host:1"
    assert len(fake_platform.requests) == 2  # one request per monthly chunk


async def test_serve_without_a_token_marks_an_orphaned_backfill_interrupted(
    database_url: str,
) -> None:
    async with serve(api_settings(database_url)) as api:
        orphan = await api.container.backfills.create_job(
            [DE_LU],
            ["actual_load"],
            datetime(2025, 1, 1, tzinfo=UTC),
            datetime(2025, 3, 1, tzinfo=UTC),
            lease_seconds=-1,
        )
    async with serve(api_settings(database_url)) as api:
        job = (await api.http.get(f"/api/v1/backfill/{orphan}")).json()
        assert job["status"] == "interrupted"
        assert "ENTSOE__API_TOKEN" in job["error"]
        cancel = await api.http.post(f"/api/v1/backfill/{orphan}/cancel")
        assert cancel.status_code == 200, cancel.text
        assert cancel.json()["status"] == "cancelled"
