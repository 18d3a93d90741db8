"""A scheduled job whose leader lost its term mid-run writes nothing (real processes, both
backends).

Replica A leads and starts its collection jobs; the stand-in holds the platform's answers, so
A's jobs wait with their requests in flight. Meanwhile A is deposed without noticing (its poll
is a minute): on PostgreSQL the server ends A's lock session (``pg_terminate_backend``, what
the server does once its keepalives find a partitioned peer gone) and replica B wins the lock;
on SQLite replica B starts on the same file and leads in a newer term. Then the answers are
released. A's jobs get their points and try to store them: every write is refused
(``TermOverError``), the executions end ``cancelled`` with the reason, and not one of A's
points (DE_LU) is stored, while B's (FR) are.

Before, a job ran to its end whatever happened to the leadership meanwhile: A stored its
DE_LU points after B had taken over, two leaders' jobs writing side by side.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from energy_data_service.db.engine import create_engine
from energy_data_service.db.migrate import upgrade
from energy_data_service.db.tables import job_executions, leader_terms, points, series
from energy_data_service.domain import EnergyPoint
from energy_data_service.errors import TermOverError
from energy_data_service.repositories.job_executions import JobExecutionRepository
from energy_data_service.repositories.leader_terms import begin_term, job_term, writes_fenced_by
from energy_data_service.repositories.points import PointRepository
from energy_data_service.services.leader_election import LeaderElection
from energy_data_service.services.scheduler import RetryPolicy, ScheduledJob, SchedulerService
from entsoe_client import Area
from entsoe_client.testing import FakePlatform
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from .test_serve_process import (  # noqa: F401  (fixture)
    TOKEN,
    Replica,
    _environment,
    start_replica,
)

DE_LU, FR = Area.lookup("DE_LU").eic, Area.lookup("FR").eic


def _query(database_url: str, statement: Any) -> list[Any]:
    async def run() -> list[Any]:
        engine = create_engine(database_url)
        try:
            async with engine.connect() as connection:
                return list((await connection.execute(statement)).all())
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _stored(database_url: str, area: str) -> int:
    joined = points.join(series, points.c.series_id == series.c.id)
    statement = select(func.count()).select_from(joined).where(series.c.area_code == area)
    return int(_query(database_url, statement)[0][0])


def _executions_of(database_url: str, replica: Replica) -> list[Any]:
    return _query(
        database_url,
        select(
            job_executions.c.job_id,
            job_executions.c.outcome,
            job_executions.c.error_class,
            job_executions.c.error,
            job_executions.c.fencing_token,
        ).where(job_executions.c.instance.endswith(f":{replica.process.pid}")),
    )


def _newest_term(database_url: str) -> int:
    return int(_query(database_url, select(func.max(leader_terms.c.term)))[0][0] or 0)


def _until(condition: Callable[[], bool], seconds: float, why: str) -> float:
    began = time.monotonic()
    while not condition():
        assert time.monotonic() - began < seconds, why
        time.sleep(0.1)
    return time.monotonic() - began


def _end_lock_session(database_url: str) -> None:
    """What the server does to a partitioned leader's session: end it, releasing the lock."""
    _query(
        database_url,
        text(
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'"
            " AND granted AND database = (SELECT oid FROM pg_database"
            " WHERE datname = current_database())"
        ),
    )


@pytest.mark.chaos
def test_a_deposed_leaders_running_jobs_store_nothing(
    database_url: str,
    start_replica,  # noqa: F811  (the fixture)
) -> None:  # type: ignore[no-untyped-def]
    backend = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    with FakePlatform(token=TOKEN) as platform:
        common = {
            "ENTSOE__API_TOKEN": TOKEN,
            "ENTSOE__BASE_URL": platform.url,
            "ENTSOE__REQUESTS_PER_MINUTE": "",
            "COLLECTION__DATA_TYPES": "actual_load",
            "COLLECTION__LOOKBACK_DAYS": "1",
        }
        platform.hold()
        first: Replica = start_replica(
            _environment(
                database_url,
                COLLECTION__AREAS="DE_LU",
                SCHEDULER__LEADER_POLL_SECONDS="60",  # A must not notice by itself
                **common,
            )
        )
        first.wait_ready()
        _until(lambda: len(platform.requests) >= 1, 30, first.output())
        first_term = _newest_term(database_url)
        assert first_term >= 1
        if backend == "postgresql":
            _end_lock_session(database_url)
        second: Replica = start_replica(
            _environment(
                database_url,
                COLLECTION__AREAS="FR",
                SCHEDULER__LEADER_POLL_SECONDS="0.5",
                **common,
            )
        )
        second.wait_ready()
        _until(lambda: second.health().json()["scheduler"]["leader"], 30, second.output())
        assert _newest_term(database_url) > first_term
        assert first.health().json()["scheduler"]["leader"]  # A has not noticed yet
        platform.release()

        def first_jobs_ended() -> bool:
            rows = _executions_of(database_url, first)
            return bool(rows) and all(row.outcome != "running" for row in rows)

        took = _until(first_jobs_ended, 60, first.output())
        # The new leader's jobs write: B ran nothing yet (A's runs count as the cluster's).
        run = httpx.post(f"{second.url}/api/v1/jobs/realtime_collection/run", trust_env=False)
        assert run.status_code == 202, run.text
        _until(lambda: _stored(database_url, FR) > 0, 60, second.output())
        executions = _executions_of(database_url, first)
    print(f"\n{backend}: the deposed leader's jobs ended {took:.2f} s after the answers came")
    assert _stored(database_url, DE_LU) == 0, first.output()
    collecting = [row for row in executions if row.job_id in ("realtime_collection", "gap_fill")]
    assert collecting, executions
    for row in collecting:
        assert (row.outcome, row.error_class) == ("cancelled", "TermOverError"), row
        assert f"leader term {first_term} is over" in row.error
        assert row.fencing_token.startswith(f"{first_term}:")
    assert "Traceback" not in first.output()


def _hour(index: int) -> EnergyPoint:
    fetched = datetime(2024, 3, 2, tzinfo=UTC)
    return EnergyPoint(
        area_code=DE_LU,
        data_type="actual_load",
        business_type="A04",
        resolution="PT60M",
        classification_sequence=0,
        timestamp=datetime(2024, 3, 1, tzinfo=UTC) + timedelta(hours=index),
        value=float(index),
        unit="MAW",
        curve_type="A01",
        document_mrid="doc-1",
        revision_number=1,
        document_created_at=fetched,
        fetched_at=fetched,
    )


async def test_a_write_in_an_ended_term_is_refused_and_rolled_back(engine: AsyncEngine) -> None:
    repository = PointRepository(engine)
    async with engine.begin() as connection:
        old = await begin_term(connection, "a:1", None)
        new = await begin_term(connection, "b:2", None)
    assert new > old
    with writes_fenced_by(old), pytest.raises(TermOverError, match=f"term {old} is over"):
        await repository.upsert([_hour(0), _hour(1)])
    with writes_fenced_by(old), pytest.raises(TermOverError):
        async with engine.begin() as connection:
            await repository.upsert([_hour(2)], connection)
    window = (DE_LU, "actual_load", _hour(0).timestamp, _hour(9).timestamp)
    assert await repository.range(*window) == []
    with writes_fenced_by(new):
        assert await repository.upsert([_hour(0)]) == 1
    assert await repository.upsert([_hour(1)]) == 1  # outside a scheduled job: not fenced
    stored = await repository.range(*window)
    assert [p.value for p in stored] == [0.0, 1.0]


async def _noop() -> None:
    return None


async def test_on_sqlite_the_newest_serve_leads_and_the_older_steps_down(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    await upgrade(engine)
    older = LeaderElection(engine, _noop, _noop, poll_seconds=0.1)
    newer = LeaderElection(engine, _noop, _noop, poll_seconds=0.1)
    tasks = [asyncio.create_task(older.run())]
    try:
        while not older.is_leader:
            await asyncio.sleep(0.02)
        first = older.term
        tasks.append(asyncio.create_task(newer.run()))
        began = time.monotonic()
        while older.is_leader or not newer.is_leader:
            assert time.monotonic() - began < 5
            await asyncio.sleep(0.02)
        assert first is not None
        assert newer.term is not None
        assert newer.term > first
        assert older.term is None
        assert older.fencing_token is None
        await asyncio.sleep(0.3)  # it stays a follower: no fight over the lead
        assert not older.is_leader
        assert newer.is_leader
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await engine.dispose()


async def test_a_job_whose_term_ended_is_cancelled_and_not_retried(
    executions: JobExecutionRepository,
) -> None:
    calls: list[int | None] = []

    async def deposed() -> int:
        calls.append(job_term.get())
        raise TermOverError(3, 4)

    scheduler = SchedulerService(
        [ScheduledJob("collect", "test", deposed, every=timedelta(hours=1))],
        executions,
        RetryPolicy(max_attempts=3, base_seconds=0),
    )
    scheduler.leader_term = lambda: 3
    assert scheduler.trigger("collect")
    while (await scheduler.status())[0].running:
        await asyncio.sleep(0.01)
    (status,) = await scheduler.status()
    assert calls == [3]  # run in its term, once
    assert status.last_execution is not None
    assert status.last_execution.outcome == "cancelled"
    assert status.last_execution.error_class == "TermOverError"


async def test_a_retry_due_after_the_term_ended_is_not_made(
    executions: JobExecutionRepository,
) -> None:
    terms = iter([3, 4])  # the term at the first attempt, then at the retry
    attempts: list[int | None] = []

    async def flaky() -> int:
        attempts.append(job_term.get())
        raise RuntimeError("platform down")

    scheduler = SchedulerService(
        [ScheduledJob("collect", "test", flaky, every=timedelta(hours=1))],
        executions,
        RetryPolicy(max_attempts=3, base_seconds=0),
    )
    scheduler.leader_term = lambda: next(terms, 4)
    assert scheduler.trigger("collect")
    while (await scheduler.status())[0].running:
        await asyncio.sleep(0.01)
    assert attempts == [3]  # the retry would have run in a term not its own
    (status,) = await scheduler.status()
    assert status.last_execution is not None
    assert status.last_execution.outcome == "failed"
