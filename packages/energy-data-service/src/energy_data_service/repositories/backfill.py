"""All SQL for ``backfill_jobs`` and ``backfill_progress``.

A chunk row exists per area × data type × [chunk_start, chunk_end). Its ``done`` status is
written in the same transaction as the chunk's points (see ``mark_done``), so after a crash a
chunk is either stored and done, or neither: resuming re-fetches exactly the missing chunks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from energy_data_service.db.tables import backfill_jobs, backfill_progress

JOB_STATUSES = ("running", "done", "failed", "cancelled")
CHUNK_STATUSES = ("pending", "done", "failed")


@dataclass(frozen=True, slots=True)
class BackfillJob:
    """One requested backfill (areas × data types over [start, end))."""

    id: int
    areas: list[str]
    data_types: list[str]
    start: datetime
    end: datetime
    status: str
    created_at: datetime
    finished_at: datetime | None
    cancelled: bool
    error: str | None


@dataclass(frozen=True, slots=True)
class BackfillChunk:
    """Progress of one chunk."""

    id: int
    job_id: int | None
    area_code: str
    data_type: str
    chunk_start: datetime
    chunk_end: datetime
    status: str
    points: int
    attempts: int
    error: str | None
    updated_at: datetime


def _now() -> datetime:
    return datetime.now(UTC)


class BackfillRepository:
    """Jobs and per-chunk progress of backfills."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create_job(
        self, areas: list[str], data_types: list[str], start: datetime, end: datetime
    ) -> int:
        """Register a job as running; returns its id."""
        async with self._engine.begin() as connection:
            result = await connection.execute(
                insert(backfill_jobs).values(
                    areas=areas,
                    data_types=data_types,
                    start=start,
                    end=end,
                    status="running",
                    created_at=_now(),
                    cancelled=False,
                )
            )
            (job_id,) = result.inserted_primary_key or (0,)
            return int(job_id)

    async def get_job(self, job_id: int) -> BackfillJob | None:
        """One job, or None."""
        async with self._engine.connect() as connection:
            row = (
                (
                    await connection.execute(
                        select(backfill_jobs).where(backfill_jobs.c.id == job_id)
                    )
                )
                .mappings()
                .first()
            )
        return BackfillJob(**row) if row is not None else None

    async def list_jobs(self, limit: int = 50) -> list[BackfillJob]:
        """Newest jobs first."""
        query = select(backfill_jobs).order_by(backfill_jobs.c.id.desc()).limit(limit)
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [BackfillJob(**row) for row in rows]

    async def cancel_job(self, job_id: int) -> bool:
        """Ask a running job to stop after its current chunk; False if not running."""
        async with self._engine.begin() as connection:
            result = await connection.execute(
                update(backfill_jobs)
                .where(backfill_jobs.c.id == job_id, backfill_jobs.c.status == "running")
                .values(cancelled=True)
            )
            return bool(result.rowcount)

    async def is_cancelled(self, job_id: int) -> bool:
        """Whether someone asked the job to stop."""
        async with self._engine.connect() as connection:
            value = await connection.scalar(
                select(backfill_jobs.c.cancelled).where(backfill_jobs.c.id == job_id)
            )
        return bool(value)

    async def finish_job(self, job_id: int, status: str, error: str | None = None) -> None:
        """Record the job's final status."""
        async with self._engine.begin() as connection:
            await connection.execute(
                update(backfill_jobs)
                .where(backfill_jobs.c.id == job_id)
                .values(status=status, finished_at=_now(), error=error)
            )

    async def plan_chunks(
        self,
        job_id: int | None,
        area_code: str,
        data_type: str,
        chunks: list[tuple[datetime, datetime]],
        *,
        resume: bool,
    ) -> list[BackfillChunk]:
        """Make sure a progress row exists per chunk and return them in time order.

        With ``resume`` chunks already done stay done; without it every chunk is set back to
        pending so it is fetched again (the points are upserts, so nothing is duplicated).
        """
        p = backfill_progress.c
        now = _now()
        async with self._engine.begin() as connection:
            existing = {
                (row.chunk_start, row.chunk_end): row
                for row in await connection.execute(
                    select(p.id, p.chunk_start, p.chunk_end, p.status).where(
                        p.area_code == area_code, p.data_type == data_type
                    )
                )
            }
            missing = [c for c in chunks if c not in existing]
            if missing:
                await connection.execute(
                    insert(backfill_progress),
                    [
                        {
                            "job_id": job_id,
                            "area_code": area_code,
                            "data_type": data_type,
                            "chunk_start": start,
                            "chunk_end": end,
                            "status": "pending",
                            "points": 0,
                            "attempts": 0,
                            "updated_at": now,
                        }
                        for start, end in missing
                    ],
                )
            wanted = [existing[c].id for c in chunks if c in existing]
            if wanted:
                values: dict[str, object] = {"job_id": job_id, "updated_at": now}
                statement = update(backfill_progress).where(p.id.in_(wanted))
                if not resume:
                    values.update(status="pending", error=None)
                await connection.execute(statement.values(**values))
            rows = (
                await connection.execute(
                    select(backfill_progress)
                    .where(p.area_code == area_code, p.data_type == data_type)
                    .order_by(p.chunk_start)
                )
            ).mappings()
            planned = set(chunks)
            return [
                BackfillChunk(**row)
                for row in rows
                if (row["chunk_start"], row["chunk_end"]) in planned
            ]

    async def mark_done(self, chunk_id: int, points: int, connection: AsyncConnection) -> None:
        """Done, inside the caller's transaction that also stored the chunk's points."""
        await connection.execute(
            update(backfill_progress)
            .where(backfill_progress.c.id == chunk_id)
            .values(
                status="done",
                points=points,
                attempts=backfill_progress.c.attempts + 1,
                error=None,
                updated_at=_now(),
            )
        )

    async def mark_failed(self, chunk_id: int, error: str) -> None:
        """Failed (to be retried by the next resume), with the reason."""
        async with self._engine.begin() as connection:
            await connection.execute(
                update(backfill_progress)
                .where(backfill_progress.c.id == chunk_id)
                .values(
                    status="failed",
                    attempts=backfill_progress.c.attempts + 1,
                    error=error,
                    updated_at=_now(),
                )
            )

    async def chunk_counts(self, job_id: int) -> dict[str, int]:
        """Number of chunks per status for one job."""
        p = backfill_progress.c
        async with self._engine.connect() as connection:
            rows = await connection.execute(
                select(p.status, func.count()).where(p.job_id == job_id).group_by(p.status)
            )
            return {row[0]: int(row[1]) for row in rows}
