"""A backfill run that lost its job to another claim never writes again.

Every write of a run (its plan, each chunk's points and progress, a failed chunk, the final
status) is fenced by the owner token of its claim. Two cases take the job over in the middle of
a run: in one process (the lease made to run out, then claimed as another process would), and
with real processes (a CLI backfill stopped with SIGSTOP past its lease, resumed by another
run, then let go on with SIGCONT). Before the fence, the first run went on storing chunks after
the takeover; only its final status was guarded.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from energy_data_service.container import Container
from energy_data_service.db.tables import backfill_jobs, backfill_progress, collection_runs
from energy_data_service.errors import JobTakenOverError
from energy_data_service.repositories.backfill import BackfillJob
from entsoe_client import EntsoeClient
from entsoe_client.testing import FakePlatform, value_at
from sqlalchemy import func, select, update

from .scheduler.backfill_harness import (
    DE_LU,
    YEAR_END,
    YEAR_START,
    backfill_service,
    start_cli_backfill,
)

OTHER = "other-host:4242/0badcafe"


async def _chunks(container: Container) -> dict[str, int]:
    """Done chunks and the sum of their attempts (a chunk stored twice counts 2)."""
    p = backfill_progress.c
    async with container.engine.connect() as connection:
        done, attempts = (
            await connection.execute(
                select(func.count(), func.coalesce(func.sum(p.attempts), 0)).where(
                    p.status == "done"
                )
            )
        ).one()
    return {"done": int(done), "attempts": int(attempts)}


async def _backfill_runs(container: Container) -> int:
    async with container.engine.connect() as connection:
        query = select(func.count()).where(collection_runs.c.run_kind == "backfill")
        return int(await connection.scalar(query) or 0)


async def _lease_runs_out(container: Container, running: asyncio.Task[object]) -> BackfillJob:
    """Once ``running`` has stored two chunks, its job's lease is made to have run out."""
    deadline = time.monotonic() + 60
    while (await _chunks(container))["done"] < 2:
        assert time.monotonic() < deadline
        assert not running.done()
        await asyncio.sleep(0.01)
    (job,) = await container.backfills.list_jobs()
    async with container.engine.begin() as connection:
        await connection.execute(
            update(backfill_jobs)
            .where(backfill_jobs.c.id == job.id)
            .values(lease_until=datetime.now(UTC) - timedelta(seconds=1))
        )
    return job


async def test_a_run_whose_job_was_taken_over_stores_nothing_more(
    container: Container, fake_platform: FakePlatform, client: EntsoeClient
) -> None:
    fake_platform.latency = 0.5  # slow enough to take the job over in the middle
    first = backfill_service(container, client)
    running = asyncio.create_task(first.run([DE_LU], ["actual_load"], YEAR_START, YEAR_END))
    # The first run stalls past its lease (as a frozen process would); another process claims.
    job = await _lease_runs_out(container, running)
    assert await container.backfills.claim_job(job.id, OTHER)
    at_takeover = await _chunks(container)

    report = await asyncio.wait_for(running, 60)

    assert report.status == "interrupted"
    assert await _chunks(container) == at_takeover  # not one chunk stored after the takeover
    assert at_takeover["done"] < 12, "the takeover must come in the middle of the run"
    taken = await container.backfills.get_job(job.id)
    assert taken is not None
    assert (taken.status, taken.owner, taken.finished_at) == ("running", OTHER, None)
    assert await _backfill_runs(container) == 0  # the deposed run records no run either
    with pytest.raises(JobTakenOverError):  # and each of its writes is refused on its own
        async with container.engine.begin() as connection:
            await container.backfills.fence(connection, job.id, "gone:1/00000000")
    assert not await container.backfills.finish_job(job.id, "done", owner="gone:1/00000000")

    # The new owner completes the job from the stored progress.
    fake_platform.latency = 0.0
    done = await backfill_service(container, client).run_job(job.id, owner=OTHER)
    assert done.status == "done"
    assert await _chunks(container) == {"done": 12, "attempts": 12}
    points = await container.points.range(DE_LU.eic, "actual_load", YEAR_START, YEAR_END)
    assert len(points) == 35_040
    assert all(p.value == value_at(p.timestamp) for p in points)


async def test_two_tasks_of_one_process_never_both_write_a_job(
    container: Container, fake_platform: FakePlatform, client: EntsoeClient
) -> None:
    """The second claim of a job wins even in the same process (its token is its own)."""
    fake_platform.latency = 0.5  # slow enough to take the job over in the middle
    service = backfill_service(container, client)
    first = asyncio.create_task(service.run([DE_LU], ["actual_load"], YEAR_START, YEAR_END))
    job = await _lease_runs_out(container, first)  # the first task's lease runs out
    fake_platform.latency = 0.0
    second = await service.run_job(job.id)
    report = await asyncio.wait_for(first, 60)
    assert (report.status, second.status) == ("interrupted", "done")
    assert await _chunks(container) == {"done": 12, "attempts": 12}
    finished = await container.backfills.get_job(job.id)
    assert finished is not None
    assert finished.status == "done"


def _writable(database: Path) -> bool:
    """True when no process holds the SQLite write lock right now."""
    probe = sqlite3.connect(database, timeout=0.2, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        probe.close()


@pytest.mark.chaos
@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_stalled_cli_backfill_resumed_elsewhere_never_writes_again(
    container: Container,
    fake_platform: FakePlatform,
    client: EntsoeClient,
    cli_env: dict[str, str],
) -> None:
    database = Path(str(container.engine.url.database))
    fake_platform.latency = 0.3
    env = {**cli_env, "BACKFILL__LEASE_SECONDS": "2"}
    process = start_cli_backfill(env, stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while (await _chunks(container))["done"] < 3:
            assert time.monotonic() < deadline
            assert process.poll() is None
            await asyncio.sleep(0.01)
        # Hold the platform's answers so the process ends up waiting on one, whatever the
        # machine's load; then freeze it outside a transaction (frozen inside one it would
        # hold SQLite's lock).
        asked = len(fake_platform.requests)
        fake_platform.hold()
        while len(fake_platform.requests) == asked:
            assert time.monotonic() < deadline
            assert process.poll() is None
            await asyncio.sleep(0.01)
        while True:
            os.kill(process.pid, signal.SIGSTOP)
            if _writable(database):
                break
            os.kill(process.pid, signal.SIGCONT)
            await asyncio.sleep(0.05)
        at_stop = await _chunks(container)
        assert at_stop["done"] < 12, "the backfill must be stopped in the middle"
        await asyncio.sleep(2.5)  # past its lease: the job is nobody's
        (job,) = await container.backfills.list_jobs()
        assert job.status == "interrupted"

        fake_platform.latency = 0.0
        fake_platform.release()  # the frozen process's held answer waits in its socket
        resumed = await backfill_service(container, client, lease=2).run(
            [DE_LU], ["actual_load"], YEAR_START, YEAR_END, resume=True
        )
        assert (resumed.status, resumed.job_id) == ("done", job.id)
        after_resume = await _chunks(container)
        assert after_resume == {"done": 12, "attempts": 12}
        finished = await container.backfills.get_job(job.id)
        assert finished is not None
        owner = finished.owner

        os.kill(process.pid, signal.SIGCONT)  # the stalled process wakes up mid-chunk
        # Wait in a thread: this process's own pending work (the alert evaluation the resumed
        # run queued writes alerts) must go on, or a transaction it has open holds SQLite's
        # write lock while the event loop is blocked, and the woken process meets "database
        # is locked" instead of its takeover.
        out, err = await asyncio.to_thread(process.communicate, timeout=120)
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGCONT)
            process.kill()
            process.wait(10)
    print(f"\nstalled backfill woke after the takeover: exit {process.returncode}")
    assert process.returncode == 1, err
    assert "taken over" in out + err, out + err
    assert await _chunks(container) == after_resume  # it stored nothing more
    job_after = await container.backfills.get_job(job.id)
    assert job_after is not None
    assert (job_after.status, job_after.owner) == ("done", owner)
    points = await container.points.range(DE_LU.eic, "actual_load", YEAR_START, YEAR_END)
    assert len(points) == 35_040
