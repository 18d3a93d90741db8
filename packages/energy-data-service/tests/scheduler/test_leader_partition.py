"""Leader election when the leader's connection is cut by a network fault, not by a kill.

The leader asks ``pg_locks`` each poll whether its session still holds the lock (before, it
only ran ``SELECT 1``, so a session that lost the lock went on scheduling), and a silent
connection makes the check time out so the leader steps down. Each term gets a fencing token.
A follower ends a holder whose session has been silent past the stale bound (before, it waited
for the server to notice, which behind a blackholing proxy never happens).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable

import pytest
from energy_data_service.db.engine import create_engine
from energy_data_service.db.migrate import upgrade
from energy_data_service.errors import TermOverError
from energy_data_service.repositories.leader_terms import fence_job_writes, writes_fenced_by
from energy_data_service.services.leader_election import (
    SCHEDULER_LOCK_KEY,
    LeaderElection,
    check_timeout_seconds,
    fail_over_bound_seconds,
)
from service_common.testing import FaultyTcpProxy
from sqlalchemy import text
from structlog.testing import capture_logs

pytestmark = [pytest.mark.postgres, pytest.mark.chaos]
POLL = 0.5


async def _noop() -> None:
    return None


async def _until(condition: Callable[[], bool], seconds: float) -> float:
    began = time.monotonic()
    while not condition():
        assert time.monotonic() - began < seconds
        await asyncio.sleep(0.02)
    return time.monotonic() - began


async def test_a_leader_that_lost_its_lock_steps_down(postgres_url: str) -> None:
    engine = create_engine(postgres_url)
    await upgrade(engine)
    leader = LeaderElection(engine, _noop, _noop, poll_seconds=POLL)
    campaign = asyncio.create_task(leader.run())
    try:
        await _until(lambda: leader.is_leader, 10)
        assert leader.fencing_token is not None
        term = int(leader.fencing_token.split(":")[0])
        connection = leader._connection  # the session that holds the lock
        assert connection is not None
        await connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": SCHEDULER_LOCK_KEY})
        await connection.commit()
        await _until(lambda: not leader.is_leader, 5)
        await _until(lambda: leader.is_leader, 10)  # it campaigns again: a new term
        assert leader.fencing_token is not None
        assert int(leader.fencing_token.split(":")[0]) > term
    finally:
        campaign.cancel()
        await asyncio.gather(campaign, return_exceptions=True)
        await engine.dispose()


class _Pair:
    """A leader behind a proxy and a follower on a direct connection, with the times each
    led and stepped down, and every moment both said they led."""

    def __init__(self, proxy: FaultyTcpProxy, postgres_url: str, follower_url: str) -> None:
        self.cut_off = create_engine(
            postgres_url.replace(":5432/", f":{proxy.port}/"), command_timeout=1, connect_timeout=1
        )
        self.direct = create_engine(follower_url, command_timeout=1, connect_timeout=1)
        self.events: list[tuple[str, float]] = []
        self.first = LeaderElection(
            self.cut_off, self._noted("first led"), self._noted("first stepped down"), POLL
        )
        self.second = LeaderElection(
            self.direct, self._noted("second led"), self._noted("second stepped down"), POLL
        )
        self.overlap: list[float] = []
        self.tasks: list[asyncio.Task[None]] = []

    def _noted(self, event: str) -> Callable[[], Awaitable[None]]:
        async def note() -> None:
            self.events.append((event, time.monotonic()))

        return note

    def at(self, event: str) -> float:
        return next(at for name, at in self.events if name == event)

    async def _watch(self) -> None:
        while True:
            if self.first.is_leader and self.second.is_leader:
                self.overlap.append(time.monotonic())
            await asyncio.sleep(0.01)

    async def start(self) -> None:
        self.tasks.append(asyncio.create_task(self.first.run()))
        await _until(lambda: self.first.is_leader, 10)
        self.tasks += [asyncio.create_task(self.second.run()), asyncio.create_task(self._watch())]
        await asyncio.sleep(3 * POLL)
        assert not self.second.is_leader

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.cut_off.dispose()
        await self.direct.dispose()


async def test_fail_over_when_the_leaders_connection_is_blackholed(postgres_url: str) -> None:
    """Nothing ends the leader's session by itself: the proxy keeps the server's TCP peer
    alive, as a partition behind a proxy or a stalled host does. The follower finds the holder
    silent past the stale bound, ends its backend and leads in a new term."""
    await upgrade(postgres_url)
    with FaultyTcpProxy("127.0.0.1", 5432) as proxy:
        pair = _Pair(proxy, postgres_url, postgres_url)
        try:
            await pair.start()
            old_term = pair.first.term
            stale = pair.second.stale_seconds
            bound = fail_over_bound_seconds(POLL, stale)
            proxy.blackhole()  # partition: the leader hears nothing, the server sees no end
            cut = time.monotonic()
            await _until(lambda: pair.second.is_leader, bound + 5)
            taken_over = pair.at("second led") - cut
            stepped_down = pair.at("first stepped down") - cut
            print(
                f"\nleader blackholed: it stepped down after {stepped_down:.2f} s; the follower"
                f" ended its session and led {taken_over:.2f} s after the cut (poll {POLL} s,"
                f" stale bound {stale} s, computed bound {bound} s)"
            )
            assert taken_over <= bound
            # Not before the holder was silent for the bound (its last answer came at most one
            # poll and one check before the cut).
            assert taken_over >= stale - POLL - check_timeout_seconds(POLL)
            assert stepped_down < taken_over
            assert pair.overlap == []
            assert old_term is not None
            assert pair.second.term is not None
            assert pair.second.term > old_term
            # A job of the old term that wakes up now stores nothing.
            with writes_fenced_by(old_term), pytest.raises(TermOverError):
                async with pair.direct.begin() as connection:
                    await fence_job_writes(connection)
        finally:
            await pair.close()


@pytest.mark.parametrize(
    ("membership", "event", "hint"),
    [
        (" IN ROLE pg_read_all_stats", "leader.stale_holder_not_terminated", "pg_signal_backend"),
        ("", "leader.holder_not_observable", "pg_read_all_stats"),
    ],
    ids=["may-see-not-signal", "may-not-see"],
)
async def test_a_follower_refused_the_termination_waits_for_the_session_to_end(
    postgres_url: str, membership: str, event: str, hint: str
) -> None:
    """A follower whose role may not signal the holder's backend (here: the holder is a
    superuser), or not even see its activity, says so once and leads only when the server ends
    the session (the proxy's reset stands in for TCP keepalives)."""
    await upgrade(postgres_url)
    role = f"eds_follower_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres_url)
    async with admin.begin() as connection:
        for statement in (
            f'CREATE ROLE "{role}" LOGIN{membership}',
            f'GRANT ALL ON ALL TABLES IN SCHEMA public TO "{role}"',
            f'GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO "{role}"',
        ):
            await connection.execute(text(statement))
    follower_url = postgres_url.replace("://postgres@", f"://{role}@")
    try:
        with FaultyTcpProxy("127.0.0.1", 5432) as proxy, capture_logs() as logs:
            pair = _Pair(proxy, postgres_url, follower_url)
            try:
                await pair.start()
                bound = fail_over_bound_seconds(POLL, pair.second.stale_seconds)
                proxy.blackhole()
                cut = time.monotonic()
                await asyncio.sleep(bound + 2 * POLL)
                since_cut = [(event, round(at - cut, 2)) for event, at in pair.events]
                assert not pair.second.is_leader, (since_cut, logs)
                refusals = [entry for entry in logs if entry["event"] == event]
                assert len(refusals) == 1, logs
                assert hint in refusals[0]["hint"]
                proxy.refuse()  # the server ends the session
                await _until(lambda: pair.second.is_leader, 10)
                assert pair.overlap == []
            finally:
                await pair.close()
    finally:
        async with admin.begin() as connection:
            await connection.execute(text(f'DROP OWNED BY "{role}"'))
            await connection.execute(text(f'DROP ROLE "{role}"'))
        await admin.dispose()
