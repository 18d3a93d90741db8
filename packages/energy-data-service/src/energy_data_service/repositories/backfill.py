"""All SQL for ``backfill_jobs`` and ``backfill_progress``.

A chunk row exists per area × data type × [chunk_start, chunk_end). Its ``done`` status is
written in the same transaction as the chunk's points (see ``mark_done``), so after a crash a
chunk is either stored and done, or neither: resuming re-fetches exactly the missing chunks.
Chunk rows are created with insert … on conflict do nothing, so processes planning the same
series at once never trip over each other's rows.

A job is ``running`` only while its owner renews its lease: a row whose lease has run out
reads as ``interrupted`` — its process died or stopped — and may be claimed by anyone (``serve``
while it runs, ``backfill --resume``).

Fencing: every claim writes a new owner token (``host:pid/<random>``) into the job row, and
every write a worker makes for the job — a chunk's points and progress, a failed chunk, the
lease, the final status — first runs ``fence``, in the same transaction: an update of the job
row guarded by that token. A worker whose job was taken over (it paused past its lease, its
connection hung, another process claimed the job) therefore finds the guard false and its
transaction rolled back, however late it wakes up: it never writes again. The guard is a write,
so it takes SQLite's write lock (and PostgreSQL's row lock) before anything else; a claim
committed after it waits for the worker's transaction to end.
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, not_, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from energy_data_service.db.tables import backfill_jobs, backfill_progress
from energy_data_service.errors import JobTakenOverError

JOB_STATUSES = ("running", "done", "failed", "cancelled", "interrupted")
CHUNK_STATUSES = ("pending", "done", "failed")
DEFAULT_LEASE_SECONDS = 60.0


def this_process() -> str:
    """Which process registered a job: ``host:pid`` (computed each time, so a forked child is
    itself)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def new_owner_token() -> str:
    """A fencing token for one claim: ``host:pid/<random>``, new at every claim, so two claims
    of a job (by two processes, or by two tasks of one) never hold the same token."""
    return f"{this_process()}/{secrets.token_hex(4)}"


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
    owner: str | None = None
    lease_until: datetime | None = None
    borders: list[list[str]] | None = None
    """``[area, out_area]`` EIC pairs for the job's directional data types (flows, …)."""


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
    out_area_code: str = ""


def _now() -> datetime:
    return datetime.now(UTC)


def _job(row: Any, now: datetime) -> BackfillJob:
    """The stored row, with ``running`` past its lease told as it is: ``interrupted``."""
    job = BackfillJob(**row)
    if job.status == "running" and (job.lease_until is None or job.lease_until < now):
        return BackfillJob(**{**row, "status": "interrupted"})
    return job


def _live(now: datetime) -> Any:
    """SQL: the job is running and its owner's lease has not run out."""
    j = backfill_jobs.c
    return and_(j.status == "running", j.lease_until.is_not(None), j.lease_until >= now)


class BackfillRepository:
    """Jobs and per-chunk progress of backfills."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create_job(
        self,
        areas: list[str],
        data_types: list[str],
        start: datetime,
        end: datetime,
        *,
        owner: str | None = None,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        borders: list[list[str]] | None = None,
    ) -> int:
        """Register a job as running, leased to ``owner`` (this process); returns its id."""
        now = _now()
        async with self._engine.begin() as connection:
            result = await connection.execute(
                backfill_jobs.insert().values(
                    areas=areas,
                    data_types=data_types,
                    start=start,
                    end=end,
                    status="running",
                    created_at=now,
                    cancelled=False,
                    owner=owner or this_process(),
                    lease_until=now + timedelta(seconds=lease_seconds),
                    borders=borders or None,
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
        return _job(row, _now()) if row is not None else None

    async def list_jobs(self, limit: int = 50) -> list[BackfillJob]:
        """Newest jobs first."""
        query = select(backfill_jobs).order_by(backfill_jobs.c.id.desc()).limit(limit)
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        now = _now()
        return [_job(row, now) for row in rows]

    async def cancel_job(self, job_id: int) -> bool:
        """Stop a job for good; False when it already ended (done, failed, cancelled).

        A live job is asked to stop after its current chunk (its owner then ends it
        ``cancelled``); a job nobody works on (interrupted) is ended ``cancelled`` at once.
        """
        j = backfill_jobs.c
        now = _now()
        async with self._engine.begin() as connection:
            asked = await connection.execute(
                update(backfill_jobs).where(j.id == job_id, _live(now)).values(cancelled=True)
            )
            if asked.rowcount:
                return True
            ended = await connection.execute(
                update(backfill_jobs)
                .where(j.id == job_id, j.status.in_(("running", "interrupted")))
                .values(
                    status="cancelled",
                    cancelled=True,
                    finished_at=now,
                    lease_until=None,
                    error="cancelled while no process worked on it",
                )
            )
            return bool(ended.rowcount)

    async def is_cancelled(self, job_id: int) -> bool:
        """Whether someone asked the job to stop."""
        async with self._engine.connect() as connection:
            value = await connection.scalar(
                select(backfill_jobs.c.cancelled).where(backfill_jobs.c.id == job_id)
            )
        return bool(value)

    async def claim_job(
        self, job_id: int, owner: str, lease_seconds: float = DEFAULT_LEASE_SECONDS
    ) -> bool:
        """Take the job over unless another live claim holds it; it runs again as ``owner``
        (a fresh ``new_owner_token()``). A job this process registered (``create_job``: owner
        ``host:pid``, no claim yet) may be claimed by this process while its lease runs."""
        j = backfill_jobs.c
        now = _now()
        registered_here = j.owner == owner.partition("/")[0]
        async with self._engine.begin() as connection:
            result = await connection.execute(
                update(backfill_jobs)
                .where(j.id == job_id, or_(not_(_live(now)), j.owner == owner, registered_here))
                .values(
                    status="running",
                    owner=owner,
                    lease_until=now + timedelta(seconds=lease_seconds),
                    cancelled=False,
                    finished_at=None,
                    error=None,
                )
            )
            return bool(result.rowcount)

    async def renew_lease(
        self, job_id: int, owner: str, lease_seconds: float = DEFAULT_LEASE_SECONDS
    ) -> bool:
        """Extend the lease; False when the job is no longer ``owner``'s to run."""
        j = backfill_jobs.c
        async with self._engine.begin() as connection:
            result = await connection.execute(
                update(backfill_jobs)
                .where(j.id == job_id, j.owner == owner, j.status == "running")
                .values(lease_until=_now() + timedelta(seconds=lease_seconds))
            )
            return bool(result.rowcount)

    async def fence(self, connection: AsyncConnection, job_id: int, owner: str) -> None:
        """Guard the caller's transaction: raise ``JobTakenOverError`` (the caller's ``begin``
        block then rolls back) unless the job is still running under ``owner``'s claim.

        Run it first in every transaction a worker writes for its job. It is an update of the
        job row that changes nothing, so it holds SQLite's write lock (PostgreSQL: the row's
        lock) until the transaction ends, and a claim by anyone else is ordered before or after
        the whole transaction, never inside it.
        """
        j = backfill_jobs.c
        result = await connection.execute(
            update(backfill_jobs)
            .where(j.id == job_id, j.owner == owner, j.status == "running")
            .values(owner=owner)
        )
        if not result.rowcount:
            raise JobTakenOverError(job_id)

    async def release_job(self, job_id: int, owner: str) -> None:
        """Stop working on the job without ending it: it reads ``interrupted`` at once."""
        j = backfill_jobs.c
        async with self._engine.begin() as connection:
            await connection.execute(
                update(backfill_jobs)
                .where(j.id == job_id, j.owner == owner, j.status == "running")
                .values(lease_until=None)
            )

    async def orphaned_jobs(self) -> list[int]:
        """Jobs left running by a process that is gone (lease expired), oldest first."""
        j = backfill_jobs.c
        async with self._engine.connect() as connection:
            rows = await connection.execute(
                select(j.id).where(j.status == "running", not_(_live(_now()))).order_by(j.id)
            )
            return [int(row[0]) for row in rows]

    async def interrupt_job(self, job_id: int, reason: str) -> None:
        """Record that nobody will resume the orphaned job on its own (resume it to continue)."""
        j = backfill_jobs.c
        async with self._engine.begin() as connection:
            await connection.execute(
                update(backfill_jobs)
                .where(j.id == job_id, j.status == "running", not_(_live(_now())))
                .values(status="interrupted", lease_until=None, error=reason)
            )

    async def resumable_job(
        self,
        areas: list[str],
        data_types: list[str],
        start: datetime,
        end: datetime,
        borders: list[list[str]] | None = None,
    ) -> int | None:
        """The newest job over exactly this request that no live process works on."""
        wanted = (areas, data_types, start, end, borders or None)
        for job in await self.list_jobs(limit=200):
            if (
                job.areas,
                job.data_types,
                job.start,
                job.end,
                job.borders or None,
            ) == wanted and job.status != "running":
                return job.id
        return None

    async def finish_job(
        self, job_id: int, status: str, error: str | None = None, *, owner: str | None = None
    ) -> bool:
        """Record the job's final status (only while ``owner``'s claim still holds it, when
        given: a worker that was taken over cannot overwrite the new owner's outcome)."""
        j = backfill_jobs.c
        condition = (
            j.id == job_id
            if owner is None
            else and_(j.id == job_id, j.owner == owner, j.status == "running")
        )
        async with self._engine.begin() as connection:
            result = await connection.execute(
                update(backfill_jobs)
                .where(condition)
                .values(status=status, finished_at=_now(), error=error, lease_until=None)
            )
            return bool(result.rowcount)

    async def plan_chunks(
        self,
        job_id: int | None,
        area_code: str,
        data_type: str,
        chunks: list[tuple[datetime, datetime]],
        *,
        resume: bool,
        owner: str | None = None,
        out_area_code: str = "",
    ) -> list[BackfillChunk]:
        """Make sure a progress row exists per chunk and return them in time order
        (``out_area_code``: the border's other area, for directional data).

        With ``resume`` chunks already done stay done; without it every chunk is set back to
        pending so it is fetched again (the points are upserts, so nothing is duplicated).
        With ``owner`` (the worker's claim) the plan is fenced like every write of a job.
        """
        p = backfill_progress.c
        now = _now()
        async with self._engine.begin() as connection:
            if owner is not None and job_id is not None:
                await self.fence(connection, job_id, owner)
            if chunks:
                # Write first: on SQLite a transaction that read before writing fails at once
                # (no busy wait) when another process wrote meanwhile. Rows another process
                # is planning right now win quietly.
                dialect_insert = (
                    postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
                )
                await connection.execute(
                    dialect_insert(backfill_progress).on_conflict_do_nothing(),
                    [
                        {
                            "job_id": job_id,
                            "area_code": area_code,
                            "out_area_code": out_area_code,
                            "data_type": data_type,
                            "chunk_start": start,
                            "chunk_end": end,
                            "status": "pending",
                            "points": 0,
                            "attempts": 0,
                            "updated_at": now,
                        }
                        for start, end in chunks
                    ],
                )
            existing = {
                (row.chunk_start, row.chunk_end): row
                for row in await connection.execute(
                    select(p.id, p.chunk_start, p.chunk_end, p.status).where(
                        p.area_code == area_code,
                        p.out_area_code == out_area_code,
                        p.data_type == data_type,
                    )
                )
            }
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
                    .where(
                        p.area_code == area_code,
                        p.out_area_code == out_area_code,
                        p.data_type == data_type,
                    )
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

    async def mark_failed(
        self, chunk_id: int, error: str, *, job_id: int | None = None, owner: str | None = None
    ) -> None:
        """Failed (to be retried by the next resume), with the reason; fenced by the worker's
        claim when ``job_id`` and ``owner`` are given."""
        async with self._engine.begin() as connection:
            if job_id is not None and owner is not None:
                await self.fence(connection, job_id, owner)
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
