"""The real collection jobs against the platform stand-in, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import time

from energy_data_service.container import Container
from energy_data_service.services.scheduler import RetryPolicy
from entsoe_client.testing import FakePlatform, Reply


async def _wait_for(condition, timeout: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not await condition():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.05)


async def test_first_start_collects_at_once_and_records_each_job(
    container: Container, fake_platform: FakePlatform
) -> None:
    await container.scheduler.start()
    try:

        async def interval_jobs_done() -> bool:
            latest = await container.job_executions.latest_per_job()
            return all(
                job in latest and latest[job].outcome != "running"
                for job in ("realtime_collection", "forecasts", "gap_fill")
            )

        await _wait_for(interval_jobs_done)
    finally:
        await container.scheduler.stop()
    latest = await container.job_executions.latest_per_job()
    realtime = latest["realtime_collection"]
    assert realtime.outcome == "success", realtime.error
    assert realtime.trigger == "catch_up"
    gap_fill = latest["gap_fill"]
    assert gap_fill.outcome == "success", gap_fill.error
    assert latest["forecasts"].points == 0  # only actual_load is configured
    assert "backfill_analysis" not in latest  # daily jobs wait for their time
    # Both jobs fill the same holes concurrently; whichever comes first stores them.
    stored = await container.points.count()
    assert stored > 0
    assert (realtime.points or 0) + (gap_fill.points or 0) >= stored
    assert len(fake_platform.requests) >= 1


async def test_a_platform_refusal_fails_the_attempt_and_the_retry_succeeds(
    container: Container, fake_platform: FakePlatform
) -> None:
    fake_platform.enqueue(Reply.acknowledgement("Unexpected internal error", code="B11"))
    container.scheduler._retry = RetryPolicy(max_attempts=3, base_seconds=0.05)
    try:
        container.scheduler.trigger("realtime_collection")  # this job alone, not the schedule

        async def realtime_succeeded() -> bool:
            history = await container.job_executions.history(job_id="realtime_collection")
            return bool(history) and history[0].outcome == "success"

        await _wait_for(realtime_succeeded)
    finally:
        await container.scheduler.stop()
    history = await container.job_executions.history(job_id="realtime_collection")
    assert [(e.attempt, e.outcome) for e in reversed(history)] == [(1, "failed"), (2, "success")]
    assert "DE_LU actual_load" in (history[1].error or "")
    assert "Unexpected internal error" in (history[1].error or "")
    assert history[1].error_class == "CollectionFailedError"
    assert (history[0].points or 0) > 0
