"""Processes started together on one database: migrations and chunk planning never collide.

Each case starts several real processes that wait for the same instant and then migrate a fresh
database, or plan the same backfill chunks; every one must exit 0. Before the migration lock
two processes on a fresh SQLite file both created the tables (``table … already exists``); before
insert … on conflict two plans of one series broke on the unique key.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import time

import pytest
from energy_data_service.db.engine import create_engine
from energy_data_service.db.migrate import upgrade
from energy_data_service.db.tables import backfill_progress
from sqlalchemy import func, select

PROCESSES = 4

_SCRIPT = """
import asyncio, sys
from datetime import UTC, datetime, timedelta
from energy_data_service.db.engine import create_engine
from energy_data_service.db.migrate import upgrade
from energy_data_service.repositories.backfill import BackfillRepository

async def main(url, plan):
    engine = create_engine(url)
    print("ready", flush=True)
    sys.stdin.readline()  # the go signal, sent once every process is ready
    await upgrade(engine)
    if plan:
        start = datetime(2020, 1, 1, tzinfo=UTC)
        chunks = [(start + timedelta(days=i), start + timedelta(days=i + 1)) for i in range(200)]
        planned = await BackfillRepository(engine).plan_chunks(
            None, "10Y1001A1001A82H", "actual_load", chunks, resume=True
        )
        assert len(planned) == 200, len(planned)
    await engine.dispose()

asyncio.run(main(sys.argv[1], sys.argv[2] == "plan"))
"""


def _together(url: str, mode: str) -> list[subprocess.CompletedProcess[str]]:
    started = [
        subprocess.Popen(
            [sys.executable, "-c", _SCRIPT, url, mode],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    for process in started:  # every interpreter has imported and opened its engine
        assert process.stdout is not None
        assert process.stdout.readline() == "ready\n", process.stderr
    for process in started:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    finished = []
    for process in started:
        out, err = process.communicate(timeout=120)
        finished.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    return finished


@pytest.mark.chaos
def test_processes_started_together_on_a_fresh_database_all_migrate(database_url: str) -> None:
    results = _together(database_url, "migrate")
    failures = [r.stderr[-6000:] for r in results if r.returncode != 0]
    print(*failures)
    print(f"\n{PROCESSES} processes migrating one fresh database: {len(failures)} failed")
    assert failures == []


@pytest.mark.chaos
async def test_processes_planning_the_same_chunks_all_succeed(database_url: str) -> None:
    engine = create_engine(database_url)
    await upgrade(engine)
    results = _together(database_url, "plan")
    failures = [r.stderr[-6000:] for r in results if r.returncode != 0]
    print(*failures)
    print(f"\n{PROCESSES} processes planning one series: {len(failures)} failed")
    assert failures == []
    async with engine.connect() as connection:
        rows = await connection.scalar(select(func.count()).select_from(backfill_progress))
    await engine.dispose()
    assert rows == 200


async def test_opening_a_current_sqlite_database_takes_no_write_lock(sqlite_url: str) -> None:
    """A process that starts beside a busy writer finds the schema current without queueing.

    Before, every ``upgrade`` ran Alembic inside ``BEGIN IMMEDIATE`` even with nothing to
    migrate, holding SQLite's write lock while Alembic loaded its scripts (seconds on a loaded
    machine); a few processes starting together kept the other writers waiting past their busy
    timeout, which is how the planning test above failed with "database is locked".
    """
    await upgrade(sqlite_url)
    database = sqlite_url.removeprefix("sqlite+aiosqlite:///")
    writer = sqlite3.connect(database, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another process in the middle of a long write
    try:
        began = time.perf_counter()
        await asyncio.wait_for(upgrade(sqlite_url), 10)
        print(
            f"\nupgrade of a current database beside a writer: {time.perf_counter() - began:.2f} s"
        )
    finally:
        writer.execute("ROLLBACK")
        writer.close()
