"""Exactly one replica runs the schedule: a PostgreSQL session advisory lock decides which.

The lock is held on one dedicated connection for as long as this process leads. PostgreSQL
releases it the moment that session ends, so when the leader dies (even by SIGKILL) or loses its
connection, a follower's next ``pg_try_advisory_lock`` succeeds and it takes over — no lease
table, no clock skew, no heartbeat writes. Each poll the leader asks ``pg_locks`` whether its
session still holds the lock, and steps down when the answer is no or does not come within
``check_timeout_seconds`` (the server's statement timeout on that session is the same).

After a partition or a host crash the server may not notice that the leader's session is dead:
its TCP keepalives take about 25 s, and never fire when something in between (a proxy, a
balancer) or a stalled process keeps the peer's TCP alive. So a follower does not wait for the
server alone. The leader's poll moves its session's ``pg_stat_activity.state_change`` every poll;
a follower that finds the lock's holder silent for longer than the stale bound
(``SCHEDULER__LEADER_STALE_SECONDS``, by default ``default_stale_seconds``: twice the time in
which a cut-off leader has stepped down by its own timeout) ends that backend with
``pg_terminate_backend`` and takes the lock in a new term. The server's clock measures the
silence, so the replicas' clocks do not matter. If the server refuses (the follower's role may
not signal the holder's backend), the follower logs it once per holder and waits for the
session to end by itself, as before. Fail-over after a partition is therefore bounded by the
stale bound plus one poll (``fail_over_bound_seconds``).

Each election is a term: a row of ``leader_terms`` whose number only grows. The fencing token
``term:backend pid`` is recorded with every job execution the leader starts, and each job runs
in its term: its writes are refused once a newer term exists (``repositories/leader_terms.py``),
so a leader that lost the lock without noticing yet — or was ended by a follower while it
stalled — cannot write beside its successor.

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
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from energy_data_service.db.engine import is_sqlite
from energy_data_service.errors import LeadershipLostError
from energy_data_service.repositories.job_executions import INSTANCE
from energy_data_service.repositories.leader_terms import begin_term, newest_term

log = structlog.get_logger(__name__)

SCHEDULER_LOCK_KEY = 0x656E_6572_6779  # "energy" in ASCII: one fixed key for the whole cluster
_LOCK_KEY = {"high": SCHEDULER_LOCK_KEY >> 32, "low": SCHEDULER_LOCK_KEY & 0xFFFF_FFFF}
_HOLDS_LOCK = text(
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
    " AND pid = pg_backend_pid() AND classid = :high AND objid = :low AND objsubid = 1)"
)
# The lock's holder in this database and how long its session has said nothing (server clock);
# ``silent`` is NULL when this role may not see the holder's activity.
_HOLDER = text(
    "SELECT l.pid, EXTRACT(EPOCH FROM clock_timestamp() - a.state_change)::float8 AS silent"
    " FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid"
    " WHERE l.locktype = 'advisory' AND l.granted AND l.classid = :high AND l.objid = :low"
    " AND l.objsubid = 1"
    " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)
_TERMINATE = text("SELECT pg_terminate_backend(:pid, :wait_ms)")
_INSUFFICIENT_PRIVILEGE = "42501"


def check_timeout_seconds(poll_seconds: float) -> float:
    """How long the leader waits for its ``pg_locks`` check (three round trips) before it steps
    down; at least 2 s, so a loaded host's event loop does not depose a live leader."""
    return max(poll_seconds, 2.0)


def step_down_seconds(poll_seconds: float) -> float:
    """A cut-off leader has stepped down by its own timeout this long after its last answer:
    one poll's sleep, then a check that times out."""
    return poll_seconds + check_timeout_seconds(poll_seconds)


def default_stale_seconds(poll_seconds: float) -> float:
    """Twice ``step_down_seconds``: 20 s at the default 5 s poll, 5 s at a 0.5 s poll."""
    return 2 * step_down_seconds(poll_seconds)


def fail_over_bound_seconds(poll_seconds: float, stale_seconds: float) -> float:
    """From a partition of the leader to a follower's leadership, at most: the holder's last
    answer came before the cut, the follower sees it stale within one poll of the bound, then
    one check's time to end the backend, take the lock and begin the term."""
    return stale_seconds + poll_seconds + check_timeout_seconds(poll_seconds)


Callback = Callable[[], Awaitable[None]]


class LeaderElection:
    """Campaigns for leadership in the background and calls back on winning and losing it."""

    def __init__(
        self,
        engine: AsyncEngine,
        on_elected: Callback,
        on_deposed: Callback,
        poll_seconds: float = 5.0,
        stale_seconds: float | None = None,
    ) -> None:
        if stale_seconds is None:
            stale_seconds = default_stale_seconds(poll_seconds)
        if stale_seconds <= step_down_seconds(poll_seconds):
            raise ValueError(
                f"the stale bound ({stale_seconds} s) must exceed the {poll_seconds} s poll plus"
                f" the check timeout ({step_down_seconds(poll_seconds)} s), or a follower could"
                " end a leader that has not stepped down yet"
            )
        self._engine = engine
        self._on_elected = on_elected
        self._on_deposed = on_deposed
        self._poll = poll_seconds
        self._check_timeout = check_timeout_seconds(poll_seconds)
        self.stale_seconds = stale_seconds
        """A lock holder whose session is silent this long is ended by a follower."""
        self._refused_pids: set[int] = set()
        self._unfinished: asyncio.Future[None] | None = None
        self._closing: set[asyncio.Task[None]] = set()
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
            await asyncio.gather(*self._closing, return_exceptions=True)

    async def _campaign_once(self) -> None:
        try:
            if self.is_leader:
                await self._within(self._check_connection(), self._check_timeout)
            else:
                await self._within(self._try_lock(), self._poll + 5)
        except (asyncio.CancelledError, KeyboardInterrupt):
            raise
        except Exception as error:
            if self.is_leader:
                log.warning("leader.connection_lost", error=str(error))
            await self._step_down(reason="connection lost")

    async def _within(self, work: Awaitable[None], seconds: float) -> None:
        """Await ``work``; after ``seconds`` cancel it and raise ``TimeoutError`` at once.

        Unlike ``asyncio.wait_for`` this does not wait for the cancellation to finish: a query
        cancelled on a silent connection makes SQLAlchemy try a graceful close for up to 2 s
        more, and the leader must step down within ``step_down_seconds``, which the followers'
        stale bound counts on. The connection is closed once the cancelled work is done.
        """
        task = asyncio.ensure_future(work)
        try:
            done, _ = await asyncio.wait({task}, timeout=seconds)
        except asyncio.CancelledError:
            task.cancel()
            raise
        if not done:
            task.cancel()
            self._unfinished = task
            raise TimeoutError(f"no answer from the database within {seconds} s")
        task.result()

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
            timeout_ms = int(self._check_timeout * 1000)
            await self._connection.execute(text(f"SET statement_timeout = {timeout_ms}"))
        acquired = await self._connection.scalar(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": SCHEDULER_LOCK_KEY}
        )
        await self._connection.commit()
        if not acquired and await self._end_stale_holder(self._connection):
            acquired = await self._connection.scalar(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": SCHEDULER_LOCK_KEY}
            )
            await self._connection.commit()
        if acquired:
            self.fencing_token = await self._new_term(self._connection)
            await self._become_leader()

    async def _end_stale_holder(self, connection: AsyncConnection) -> bool:
        """End the lock holder's backend if its session has been silent past the stale bound;
        True when it is gone. A refusal (privilege) is logged once per holder; the follower
        then waits for the server to end the session (TCP keepalives)."""
        holder = (await connection.execute(_HOLDER, _LOCK_KEY)).one_or_none()
        await connection.commit()
        if holder is None:  # released between the two statements: try again at once
            return True
        pid, silent = int(holder.pid), holder.silent
        if silent is None:
            if pid not in self._refused_pids:
                self._refused_pids.add(pid)
                log.warning(
                    "leader.holder_not_observable",
                    holder_pid=pid,
                    hint="this role cannot see the holder's pg_stat_activity; grant it"
                    " pg_read_all_stats, or fail-over waits for the server's TCP keepalives",
                )
            return False
        if silent <= self.stale_seconds:
            return False
        wait_ms = int(self._check_timeout * 500)  # well inside this session's statement timeout
        try:
            ended = await connection.scalar(_TERMINATE, {"pid": pid, "wait_ms": wait_ms})
            await connection.commit()
        except DBAPIError as error:
            await connection.rollback()
            if getattr(error.orig, "sqlstate", None) != _INSUFFICIENT_PRIVILEGE:
                raise
            if pid not in self._refused_pids:
                self._refused_pids.add(pid)
                log.warning(
                    "leader.stale_holder_not_terminated",
                    holder_pid=pid,
                    silent_seconds=round(silent, 2),
                    error=str(error.orig),
                    hint="grant this role pg_signal_backend (or use the holder's role); until"
                    " then fail-over waits for the server's TCP keepalives",
                )
            return False
        log.warning(
            "leader.stale_holder_terminated",
            holder_pid=pid,
            silent_seconds=round(silent, 2),
            stale_seconds=self.stale_seconds,
            ended=bool(ended),
        )
        return bool(ended)

    async def _new_term(self, connection: AsyncConnection) -> str:
        pid = await connection.scalar(text("SELECT pg_backend_pid()"))
        self.term = await begin_term(connection, INSTANCE, pid)
        await connection.commit()
        return f"{self.term}:{pid}"

    async def _check_connection(self) -> None:
        """Raise unless this session still holds the lock (``pg_locks``)."""
        assert self._connection is not None
        held = await self._connection.scalar(_HOLDS_LOCK, _LOCK_KEY)
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
        unfinished, self._unfinished = self._unfinished, None
        if connection is not None:
            closing = asyncio.create_task(self._close(connection, unfinished))
            self._closing.add(closing)
            closing.add_done_callback(self._closing.discard)
            if unfinished is None:
                await closing

    @staticmethod
    async def _close(connection: AsyncConnection, unfinished: asyncio.Future[None] | None) -> None:
        """Close the session (that releases the advisory lock; a dead connection just goes
        away), after the timed-out work on it has finished cancelling."""
        if unfinished is not None:
            await asyncio.gather(unfinished, return_exceptions=True)
        with contextlib.suppress(Exception):
            await connection.invalidate()
        with contextlib.suppress(Exception):
            await connection.close()
