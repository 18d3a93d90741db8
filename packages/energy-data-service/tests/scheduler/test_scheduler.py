"""SchedulerService: triggers fire, failures retry with backoff, every attempt is recorded,
missed runs are caught up after a restart, and shutdown lets running jobs finish (bounded)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

from energy_data_service.db.tables import job_executions
from energy_data_service.repositories.job_executions import JobExecutionRepository
from energy_data_service.services.scheduler import (
    RetryPolicy,
    ScheduledJob,
    SchedulerService,
)

FAST_RETRY = RetryPolicy(max_attempts=3, base_seconds=0.1)


async def _until_idle(scheduler: SchedulerService, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    await asyncio.sleep(0.05)
    while any(job.running for job in await scheduler.status()):
        assert time.monotonic() < deadline, "job still running"
        await asyncio.sleep(0.02)


async def test_failed_attempts_retry_with_backoff_and_are_all_recorded(
    executions: JobExecutionRepository,
) -> None:
    starts: list[float] = []

    async def flaky() -> int:
        starts.append(time.monotonic())
        if len(starts) < 3:
            raise ConnectionError(f"platform down (attempt {len(starts)})")
        return 42

    scheduler = SchedulerService(
        [ScheduledJob("flaky", "fails twice", flaky, daily_at_utc=((3, 0),))],
        executions,
        FAST_RETRY,
    )
    await scheduler.start()
    try:
        assert scheduler.trigger("flaky") is True
        await _until_idle(scheduler)
    finally:
        await scheduler.stop()
    history = await executions.history(job_id="flaky")
    assert [(e.attempt, e.outcome, e.points) for e in reversed(history)] == [
        (1, "failed", None),
        (2, "failed", None),
        (3, "success", 42),
    ]
    assert history[-1].error == "platform down (attempt 1)"
    assert history[-1].error_class == "ConnectionError"
    assert {e.trigger for e in history} == {"manual"}
    assert starts[1] - starts[0] >= 0.1  # backoff: base, then doubled
    assert starts[2] - starts[1] >= 0.2
    (status,) = await scheduler.status()
    assert status.last_execution is not None
    assert status.last_execution.outcome == "success"


async def test_gives_up_after_max_attempts(executions: JobExecutionRepository) -> None:
    async def broken() -> int:
        raise RuntimeError("always")

    scheduler = SchedulerService(
        [ScheduledJob("broken", "never works", broken, daily_at_utc=((3, 0),))],
        executions,
        RetryPolicy(max_attempts=2, base_seconds=0.01),
    )
    await scheduler.start()
    try:
        scheduler.trigger("broken")
        await _until_idle(scheduler)
    finally:
        await scheduler.stop()
    assert [e.outcome for e in await executions.history()] == ["failed", "failed"]


async def test_interval_jobs_fire_repeatedly(executions: JobExecutionRepository) -> None:
    runs = 0

    async def tick() -> int:
        nonlocal runs
        runs += 1
        return 1

    scheduler = SchedulerService(
        [ScheduledJob("tick", "often", tick, every=timedelta(seconds=0.3))], executions
    )
    await scheduler.start()
    try:
        await asyncio.sleep(1.1)
        (status,) = await scheduler.status()
        assert status.next_run_at is not None
    finally:
        await scheduler.stop()
    history = await executions.history(job_id="tick")
    assert runs >= 3
    assert history[-1].trigger == "catch_up"  # never ran before: runs at once on start
    assert {e.trigger for e in history[:-1]} == {"schedule"}
    assert all(e.outcome == "success" for e in history)


async def _record_start(executions: JobExecutionRepository, job_id: str, ago: timedelta) -> None:
    engine = executions._engine
    async with engine.begin() as connection:
        started = datetime.now(UTC) - ago
        await connection.execute(
            job_executions.insert().values(
                job_id=job_id,
                trigger="schedule",
                attempt=1,
                instance="earlier-process",
                started_at=started,
                finished_at=started,
                outcome="success",
                points=0,
            )
        )


async def test_runs_missed_while_stopped_are_caught_up_once_at_start(
    executions: JobExecutionRepository,
) -> None:
    ran: list[str] = []

    def job(name: str) -> ScheduledJob:
        async def run() -> int:
            ran.append(name)
            return 0

        now = datetime.now(UTC)
        if name.startswith("hourly"):
            return ScheduledJob(name, name, run, every=timedelta(hours=1))
        # A daily time that passed one hour ago (and is not due again for 23 hours).
        earlier = now - timedelta(hours=1)
        return ScheduledJob(name, name, run, daily_at_utc=((earlier.hour, earlier.minute),))

    await _record_start(executions, "hourly_missed", timedelta(hours=3))
    await _record_start(executions, "hourly_recent", timedelta(minutes=10))
    await _record_start(executions, "daily_missed", timedelta(hours=25))
    await _record_start(executions, "daily_recent", timedelta(minutes=30))
    scheduler = SchedulerService(
        [job(n) for n in ("hourly_missed", "hourly_recent", "daily_missed", "daily_recent")],
        executions,
    )
    await scheduler.start()
    try:
        await _until_idle(scheduler)
    finally:
        await scheduler.stop()
    assert sorted(ran) == ["daily_missed", "hourly_missed"]
    assert {
        e.job_id for e in await executions.history(outcome="success") if e.trigger == "catch_up"
    } == {
        "daily_missed",
        "hourly_missed",
    }


async def test_stop_lets_running_jobs_finish_within_the_grace_period(
    executions: JobExecutionRepository,
) -> None:
    async def short() -> int:
        await asyncio.sleep(0.3)
        return 7

    async def endless() -> int:
        await asyncio.sleep(60)
        return 0

    scheduler = SchedulerService(
        [
            ScheduledJob("short", "finishes", short, daily_at_utc=((3, 0),)),
            ScheduledJob("endless", "never finishes", endless, daily_at_utc=((3, 0),)),
        ],
        executions,
        shutdown_grace_seconds=1.0,
    )
    await scheduler.start()
    scheduler.trigger("short")
    scheduler.trigger("endless")
    await asyncio.sleep(0.1)
    began = time.monotonic()
    await scheduler.stop()
    assert time.monotonic() - began < 3
    outcomes = {e.job_id: (e.outcome, e.points) for e in await executions.history()}
    assert outcomes == {"short": ("success", 7), "endless": ("cancelled", None)}
    assert not scheduler.is_running
