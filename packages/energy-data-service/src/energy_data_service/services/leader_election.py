"""Exactly one replica runs the schedule: a PostgreSQL session advisory lock decides which.

The lock is held on one dedicated connection for as long as this process leads. PostgreSQL
releases it the moment that session ends, so when the leader dies (even by SIGKILL) or loses its
connection, a follower's next ``pg_try_advisory_lock`` succeeds and it takes over — no lease
table, no clock skew, no heartbeat writes. The leader checks its connection every poll and steps
down when the check fails (the database may have handed the lock to someone else).

SQLite is single-instance by construction: the process is the leader at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from energy_data_service.db.engine import is_sqlite

log = structlog.get_logger(__name__)

SCHEDULER_LOCK_KEY = 0x656E_6572_6779  # "energy" in ASCII: one fixed key for the whole cluster
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

    async def run(self) -> None:
        """Campaign until cancelled; on cancel, step down and release the lock."""
        try:
            if is_sqlite(self._engine):
                await self._become_leader()
                await asyncio.Event().wait()
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

    async def _try_lock(self) -> None:
        if self._connection is None:
            self._connection = await self._engine.connect()
        acquired = await self._connection.scalar(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": SCHEDULER_LOCK_KEY}
        )
        await self._connection.commit()
        if acquired:
            await self._become_leader()

    async def _check_connection(self) -> None:
        assert self._connection is not None
        await self._connection.scalar(text("SELECT 1"))
        await self._connection.commit()

    async def _become_leader(self) -> None:
        self.is_leader = True
        log.info("leader.elected")
        await self._on_elected()

    async def _step_down(self, reason: str) -> None:
        was_leader, self.is_leader = self.is_leader, False
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
