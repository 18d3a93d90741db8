"""Exactly one replica runs the schedule: a PostgreSQL session advisory lock decides which.

The lock is held on one dedicated connection for as long as this process leads. PostgreSQL
releases it the moment that session ends, so when the leader dies (even by SIGKILL) or loses its
connection, a follower's next ``pg_try_advisory_lock`` succeeds and it takes over — no lease
table, no clock skew, no heartbeat writes. Each poll the leader asks ``pg_locks`` whether its
session still holds the lock, and steps down when the answer is no or does not come in time
(the statement timeout, the engine's command timeout): after a partition the database may have
ended the session — its short TCP keepalives notice a vanished peer in about 25 s — and handed
the lock to someone else.

Each election is a term: a row of ``leader_terms`` whose number only grows. The fencing token
``term:backend pid`` is recorded with every job execution the leader starts, and each job runs
in its term: its writes are refused once a newer term exists (``repositories/leader_terms.py``),
so a leader that lost the lock without noticing yet cannot write beside its successor.

SQLite has no server to hold a lock: the process leads at once, in a new term. The newest term
leads: a leader whose term was superseded (a second ``serve`` started on the same file) steps
down at its next poll and stays a follower, and its running jobs stop at their next write.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from energy_data_service.db.engine import is_sqlite
from energy_data_service.errors import LeadershipLostError
from energy_data_service.repositories.job_executions import INSTANCE
from energy_data_service.repositories.leader_terms import begin_term, newest_term

log = structlog.get_logger(__name__)

SCHEDULER_LOCK_KEY = 0x656E_6572_6779  # "energy" in ASCII: one fixed key for the whole cluster
_HOLDS_LOCK = text(
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
    " AND pid = pg_backend_pid() AND classid = :high AND objid = :low AND objsubid = 1)"
)


Callback = Callable[[], Awaitable[None]]


class LeaderElection:
    """Campaigns for leadership in the background and calls back on winning and losing it."""

    def __init__(
        self,
        engine: AsyncEngine,
        on_elected: Callback,
        on_deposed: Callback,
        poll_seconds: float = 5.0,
    ) -> None:
        self._engine = engine
        self._on_elected = on_elected
        self._on_deposed = on_deposed
        self._poll = poll_seconds
        self._connection: AsyncConnection | None = None
        self.is_leader = False
        self.fencing_token: str | None = None
        """``term:backend pid`` of the current term while leading, else None."""
        self.term: int | None = None
        """The current term's number while leading, else None."""

    async def run(self) -> None:
        """Campaign until cancelled; on cancel, step down and release the lock."""
        try:
            if is_sqlite(self._engine):
                await self._lead_on_sqlite()
            while True:
                await self._campaign_once()
                await asyncio.sleep(self._poll)
        finally:
            await self._step_down(reason="shutdown")

    async def _campaign_once(self) -> None:
        try:
            if self.is_leader:
                await asyncio.wait_for(self._check_connection(), timeout=self._poll + 5)
            else:
                await asyncio.wait_for(self._try_lock(), timeout=self._poll + 5)
        except (asyncio.CancelledError, KeyboardInterrupt):
            raise
        except Exception as error:
            if self.is_leader:
                log.warning("leader.connection_lost", error=str(error))
            await self._step_down(reason="connection lost")

    async def _lead_on_sqlite(self) -> None:
        """Lead in a new term until a newer one begins, then follow for good."""
        async with self._engine.begin() as connection:
            self.term = await begin_term(connection, INSTANCE, None)
        self.fencing_token = f"{self.term}:sqlite"
        await self._become_leader()
        while True:
            await asyncio.sleep(self._poll)
            try:
                async with self._engine.connect() as connection:
                    newest = await newest_term(connection)
            except (asyncio.CancelledError, KeyboardInterrupt):
                raise
            except Exception as error:  # SQLite busy or gone: ask again next poll
                log.warning("leader.term_unknown", error=str(error))
                continue
            if newest != self.term:
                log.warning("leader.superseded", term=self.term, newest=newest)
                await self._step_down(reason=f"term {newest} began")
                await asyncio.Event().wait()

    async def _try_lock(self) -> None:
        if self._connection is None:
            self._connection = await self._engine.connect()
            timeout_ms = int(max(self._poll, 1) * 1000)
            await self._connection.execute(text(f"SET statement_timeout = {timeout_ms}"))
        acquired = await self._connection.scalar(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": SCHEDULER_LOCK_KEY}
        )
        await self._connection.commit()
        if acquired:
            self.fencing_token = await self._new_term(self._connection)
            await self._become_leader()

    async def _new_term(self, connection: AsyncConnection) -> str:
        pid = await connection.scalar(text("SELECT pg_backend_pid()"))
        self.term = await begin_term(connection, INSTANCE, pid)
        await connection.commit()
        return f"{self.term}:{pid}"

    async def _check_connection(self) -> None:
        """Raise unless this session still holds the lock (``pg_locks``)."""
        assert self._connection is not None
        key = {"high": SCHEDULER_LOCK_KEY >> 32, "low": SCHEDULER_LOCK_KEY & 0xFFFF_FFFF}
        held = await self._connection.scalar(_HOLDS_LOCK, key)
        await self._connection.commit()
        if not held:
            raise LeadershipLostError("the scheduler lock is no longer held by this session")

    async def _become_leader(self) -> None:
        self.is_leader = True
        log.info("leader.elected")
        await self._on_elected()

    async def _step_down(self, reason: str) -> None:
        was_leader, self.is_leader = self.is_leader, False
        self.fencing_token = None
        self.term = None
        if was_leader:
            log.info("leader.stepping_down", reason=reason)
            await self._on_deposed()
        connection, self._connection = self._connection, None
        if connection is not None:
            # Closing the session releases the advisory lock; a dead connection just goes away.
            with contextlib.suppress(Exception):
                await connection.invalidate()
            with contextlib.suppress(Exception):
                await connection.close()
