"""SQL for ``job_executions``: one row per attempt of a scheduled job.

The scheduler writes a row when an attempt starts (``running``) and completes it when the attempt
ends, so a crash leaves a visible ``running`` row and the start time still counts for catching up
missed runs after a restart.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from energy_data_service.db.tables import job_executions

INSTANCE = f"{socket.gethostname()}:{os.getpid()}"
"""Which replica ran an attempt (recorded so a fail-over is visible in the history)."""


@dataclass(frozen=True)
class JobExecution:
    """One attempt of a job as stored."""

    id: int
    job_id: str
    trigger: str
    attempt: int
    instance: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str
    points: int | None
    error_class: str | None
    error: str | None
    fencing_token: str | None = None
    """``term:backend pid`` of the leader that ran it (``term:sqlite`` on SQLite)."""


class JobExecutionRepository:
    """Reads and writes the execution history of the scheduled jobs."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def start(
        self, job_id: str, *, attempt: int, trigger: str, fencing_token: str | None = None
    ) -> int:
        """Record that an attempt started (under the leader's ``fencing_token``); returns its id."""
        async with self._engine.begin() as connection:
            result = await connection.execute(
                job_executions.insert()
                .values(
                    job_id=job_id,
                    trigger=trigger,
                    attempt=attempt,
                    instance=INSTANCE,
                    started_at=datetime.now(UTC),
                    outcome="running",
                    fencing_token=fencing_token,
                )
                .returning(job_executions.c.id)
            )
            return int(result.scalar_one())

    async def finish(
        self,
        execution_id: int,
        outcome: str,
        *,
        points: int | None = None,
        error: str | None = None,
        error_class: str | None = None,
    ) -> None:
        """Complete an attempt with its outcome."""
        async with self._engine.begin() as connection:
            await connection.execute(
                job_executions.update()
                .where(job_executions.c.id == execution_id)
                .values(
                    finished_at=datetime.now(UTC),
                    outcome=outcome,
                    points=points,
                    error=error,
                    error_class=error_class,
                )
            )

    async def last_starts(self) -> dict[str, datetime]:
        """Latest start time per job (any outcome): the basis for catching up missed runs."""
        query = select(job_executions.c.job_id, func.max(job_executions.c.started_at)).group_by(
            job_executions.c.job_id
        )
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return {job_id: _as_utc(started) for job_id, started in rows if started is not None}

    async def latest_per_job(self) -> dict[str, JobExecution]:
        """The most recent attempt of every job."""
        newest = (
            select(func.max(job_executions.c.id).label("id"))
            .group_by(job_executions.c.job_id)
            .subquery()
        )
        query = select(job_executions).where(job_executions.c.id.in_(select(newest.c.id)))
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return {row["job_id"]: JobExecution(**row) for row in rows}

    async def history(
        self, *, job_id: str | None = None, outcome: str | None = None, limit: int = 100
    ) -> list[JobExecution]:
        """Most recent attempts first, optionally for one job or one outcome."""
        query = select(job_executions).order_by(job_executions.c.id.desc()).limit(limit)
        if job_id is not None:
            query = query.where(job_executions.c.job_id == job_id)
        if outcome is not None:
            query = query.where(job_executions.c.outcome == outcome)
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [JobExecution(**row) for row in rows]


def _as_utc(value: datetime | str) -> datetime:
    """``max()`` over a timestamp column comes back as raw text on SQLite."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
