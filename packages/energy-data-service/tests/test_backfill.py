"""BackfillService: chunk plan, failures and resume, and a real `kill -9` in the middle."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from energy_data_service.container import Container
from energy_data_service.db.tables import backfill_progress
from energy_data_service.db.tables import points as points_table
from energy_data_service.services.backfill import BackfillService
from energy_data_service.settings import Settings
from entsoe_client import EntsoeClient
from entsoe_client.testing import FakePlatform, Reply, value_at
from sqlalchemy import delete, func, select

from .scheduler.backfill_harness import (
    DE_LU,
    YEAR_END,
    YEAR_START,
    backfill_service,
    start_cli_backfill,
)


def test_chunk_plan_respects_platform_limits() -> None:
    monthly = BackfillService.plan(DE_LU, "actual_load", YEAR_START, YEAR_END)
    assert len(monthly) == 12
    assert monthly[0][0] == YEAR_START
    assert monthly[-1][1] == YEAR_END
    assert all(a[1] == b[0] for a, b in pairwise(monthly))
    prices = BackfillService.plan(DE_LU, "day_ahead_prices", YEAR_START, YEAR_END)
    assert all(end - start <= timedelta(days=100) for start, end in prices)
    assert len(prices) == 4


async def test_failed_chunk_fails_job_and_resume_fetches_only_it(
    container: Container, fake_platform: FakePlatform, client: EntsoeClient
) -> None:
    start, end = datetime(2023, 1, 1, tzinfo=UTC), datetime(2023, 4, 1, tzinfo=UTC)
    service = backfill_service(container, client)
    chunks = service.plan(DE_LU, "actual_load", start, end)
    broken = {"periodStart": f"{chunks[1][0]:%Y%m%d%H%M}"}
    fake_platform.enqueue(
        Reply.acknowledgement("Unexpected error occurred", status=400, code="B18"),
        times=1,
        when=broken,
    )
    report = await service.run([DE_LU], ["actual_load"], start, end)
    assert report.status == "failed"
    (series,) = report.series
    assert (series.done, series.failed) == (len(chunks) - 1, 1)
    assert series.coverage is not None
    assert series.coverage < 1
    job = await container.backfills.get_job(report.job_id)
    assert job is not None
    assert job.status == "failed"
    assert "Unexpected error" in (job.error or "")

    fake_platform.clear()
    resumed = await service.run([DE_LU], ["actual_load"], start, end, resume=True)
    assert resumed.status == "done"
    assert [r.period for r in fake_platform.requests] == [chunks[1]]
    assert resumed.series[0].coverage == 1.0
    points = await container.points.range(DE_LU.eic, "actual_load", start, end)
    expected = int((end - start) / timedelta(minutes=15))
    assert len(points) == expected
    assert all(p.value == value_at(p.timestamp) for p in points)
    runs = await container.runs.recent()
    assert [r.success for r in runs] == [True, False]
    assert {r.run_kind for r in runs} == {"backfill"}


async def _done_chunks(container: Container) -> int:
    async with container.engine.connect() as connection:
        query = select(func.count()).where(backfill_progress.c.status == "done")
        return int(await connection.scalar(query) or 0)


async def _snapshot(container: Container) -> list[tuple[object, ...]]:
    points = await container.points.range(DE_LU.eic, "actual_load", YEAR_START, YEAR_END)
    return [
        (*p.series_key, p.timestamp, p.value, p.unit, p.curve_type, p.revision_number)
        for p in points
    ]


@pytest.mark.chaos
@pytest.mark.slow
async def test_resume_after_sigkill_matches_an_uninterrupted_run(
    container: Container,
    settings: Settings,
    fake_platform: FakePlatform,
    client: EntsoeClient,
    cli_env: dict[str, str],
    tmp_path: Path,
) -> None:
    fake_platform.latency = 0.3  # slow enough to kill it mid-run
    env = {**cli_env, "BACKFILL__LEASE_SECONDS": "2"}
    process = start_cli_backfill(env, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120  # start-up is slow on a loaded CI machine
        while time.monotonic() < deadline:
            if await _done_chunks(container) >= 3 or process.poll() is not None:
                break
            await asyncio.sleep(0.01)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL, process.stderr.read() if process.stderr else ""
    done_at_kill = await _done_chunks(container)
    assert 3 <= done_at_kill < 12, "the backfill must be killed in the middle"
    (killed,) = await container.backfills.list_jobs()
    assert killed.status == "running"  # its lease has not run out yet
    await asyncio.sleep(2.1)
    (killed,) = await container.backfills.list_jobs()
    assert killed.status == "interrupted"  # nobody works on it any more
    assert await container.backfills.orphaned_jobs() == [killed.id]

    fake_platform.latency = 0.0
    fake_platform.clear()
    service = backfill_service(container, client)
    resumed = await service.run([DE_LU], ["actual_load"], YEAR_START, YEAR_END, resume=True)
    assert resumed.status == "done"
    assert resumed.job_id == killed.id  # --resume takes over the job it resumes
    (finished,) = await container.backfills.list_jobs()
    assert finished.status == "done"
    assert finished.finished_at is not None
    assert resumed.series[0].skipped == done_at_kill
    assert len(fake_platform.requests) == 12 - done_at_kill  # done chunks are not fetched again
    assert await _done_chunks(container) == 12

    # the same backfill, uninterrupted, into a fresh SQLite database
    reference_settings = settings.model_copy(
        update={
            "database": settings.database.model_copy(
                update={"url": f"sqlite+aiosqlite:///{tmp_path / 'reference.db'}"}
            )
        }
    )
    async with Container(reference_settings) as reference:
        report = await backfill_service(reference, client).run(
            [DE_LU], ["actual_load"], YEAR_START, YEAR_END
        )
        assert report.status == "done"
        expected = await _snapshot(reference)
    actual = await _snapshot(container)
    assert len(expected) == 35_040
    assert actual == expected


async def test_coverage_gaps_in_old_history_are_fetched(
    container: Container, fake_platform: FakePlatform, client: EntsoeClient
) -> None:
    start, end = datetime(2023, 5, 1, tzinfo=UTC), datetime(2023, 5, 11, tzinfo=UTC)
    service = backfill_service(container, client)
    assert (await service.run([DE_LU], ["actual_load"], start, end)).status == "done"
    hole = (datetime(2023, 5, 4, 6, tzinfo=UTC), datetime(2023, 5, 4, 9, tzinfo=UTC))
    async with container.engine.begin() as connection:
        c = points_table.c
        await connection.execute(
            delete(points_table).where(c.timestamp >= hole[0], c.timestamp < hole[1])
        )
    before = await service.coverage(DE_LU, "actual_load", start, end)
    assert before.holes == [hole]
    fake_platform.clear()
    assert await service.fill_coverage_gaps() == 12
    assert [r.period for r in fake_platform.requests] == [hole]
    after = await service.coverage(DE_LU, "actual_load", start, end)
    assert (after.fraction, after.holes) == (1.0, [])
    assert (await container.runs.recent(1))[0].run_kind == "gap_fill"
