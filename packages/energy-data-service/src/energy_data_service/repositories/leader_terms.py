"""SQL for ``leader_terms``, and the fence that keeps a deposed leader's jobs from writing.

Every election inserts a term, a number that only grows. A scheduled job runs in the term of the
leader that started it (``job_term``, set by the scheduler for the job's task and every task it
starts), and each transaction in which it writes points first calls ``fence_job_writes``: it
locks the job's term row, then reads the newest term, and refuses the write (``TermOverError``,
the caller's transaction rolls back) unless they are the same. So a job whose process lost the
lock while it ran — a partition, a session the server ended, a newer ``serve`` on the same
SQLite file — stops at its next write however late it wakes up, instead of writing beside the
new leader's jobs.

Why the two steps are race-free: a new leader, before inserting its term, locks the newest term
row ``FOR UPDATE`` (``begin_term``). On PostgreSQL the fence's ``FOR SHARE`` on that row and the
new leader's ``FOR UPDATE`` exclude each other, so either the whole fenced transaction commits
before the new term exists, or the fence's second statement (a new snapshot under READ
COMMITTED) sees the new term. On SQLite the fence's first statement is a write (SQLite has no
row locks), which takes the database's write lock for the rest of the transaction: the new
term's insert waits for it, or came first and is seen.

Alert writes are fenced the same way, and a notice is sent only after ``ensure_job_term_current``
found the term current, so a deposed leader neither opens alerts nor sends their notices beside
the new leader.

Outside a scheduled job (the CLI, an API-started backfill) ``job_term`` is unset and the fence
lets every write through: those writes are not the schedule's and have their own guards (a
backfill's owner token).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from energy_data_service.db.tables import leader_terms
from energy_data_service.errors import TermOverError

job_term: ContextVar[int | None] = ContextVar("job_term", default=None)
"""The leader term the current scheduled job started in; None outside scheduled jobs."""


@contextlib.contextmanager
def writes_fenced_by(term: int | None) -> Iterator[None]:
    """Run the block (and every task it starts) as a job of ``term``."""
    token = job_term.set(term)
    try:
        yield
    finally:
        job_term.reset(token)


async def begin_term(connection: AsyncConnection, instance: str, backend_pid: int | None) -> int:
    """Insert the next term and return its number; the caller commits.

    The newest term row is locked first (``FOR UPDATE``), so a fenced write of the term before
    is ordered wholly before or after this one (SQLite: the insert's write lock does the same).
    """
    if connection.dialect.name == "postgresql":
        await connection.execute(
            select(leader_terms.c.term)
            .order_by(leader_terms.c.term.desc())
            .limit(1)
            .with_for_update()
        )
    term = await connection.scalar(
        leader_terms.insert()
        .values(instance=instance, backend_pid=backend_pid, elected_at=datetime.now(UTC))
        .returning(leader_terms.c.term)
    )
    return int(term)


async def newest_term(connection: AsyncConnection) -> int | None:
    """The number of the latest term, None before the first election."""
    newest = await connection.scalar(select(func.max(leader_terms.c.term)))
    return None if newest is None else int(newest)


async def fence_job_writes(connection: AsyncConnection) -> None:
    """Refuse the caller's transaction (``TermOverError``) when it runs in a scheduled job whose
    term is over; call it first in the transaction. A no-op outside scheduled jobs."""
    term = job_term.get()
    if term is None:
        return
    t = leader_terms.c
    if connection.dialect.name == "postgresql":
        await connection.execute(select(t.term).where(t.term == term).with_for_update(read=True))
    else:
        await connection.execute(update(leader_terms).where(t.term == term).values(term=t.term))
    newest = await newest_term(connection)
    if newest != term:
        raise TermOverError(term, newest)


async def ensure_job_term_current(connection: AsyncConnection) -> None:
    """``TermOverError`` when the current scheduled job's term is over; for an action that is
    no database write (an alert notice sent out), checked just before it. A no-op outside
    scheduled jobs."""
    term = job_term.get()
    if term is not None and (newest := await newest_term(connection)) != term:
        raise TermOverError(term, newest)
