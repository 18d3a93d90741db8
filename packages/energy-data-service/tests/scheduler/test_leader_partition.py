"""Leader election when the leader's connection is cut by a network fault, not by a kill.

The leader asks ``pg_locks`` each poll whether its session still holds the lock (before, it
only ran ``SELECT 1``, so a session that lost the lock went on scheduling), and a silent
connection makes the check time out so the leader steps down. Each term gets a fencing token.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest
from energy_data_service.db.engine import create_engine
from energy_data_service.db.migrate import upgrade
from energy_data_service.services.leader_election import SCHEDULER_LOCK_KEY, LeaderElection
from service_common.testing import FaultyTcpProxy
from sqlalchemy import text

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


async def test_fail_over_when_the_leaders_connection_is_partitioned(postgres_url: str) -> None:
    await upgrade(postgres_url)
    with FaultyTcpProxy("127.0.0.1", 5432) as proxy:
        cut_off = create_engine(
            postgres_url.replace(":5432/", f":{proxy.port}/"), command_timeout=1, connect_timeout=1
        )
        direct = create_engine(postgres_url, command_timeout=1, connect_timeout=1)
        first = LeaderElection(cut_off, _noop, _noop, poll_seconds=POLL)
        second = LeaderElection(direct, _noop, _noop, poll_seconds=POLL)
        overlap: list[float] = []

        async def watch() -> None:
            while True:
                if first.is_leader and second.is_leader:
                    overlap.append(time.monotonic())
                await asyncio.sleep(0.01)

        tasks = [asyncio.create_task(first.run())]
        try:
            await _until(lambda: first.is_leader, 10)
            tasks += [asyncio.create_task(second.run()), asyncio.create_task(watch())]
            await asyncio.sleep(3 * POLL)
            assert not second.is_leader
            proxy.blackhole()  # partition: the leader hears nothing
            stepped_down = await _until(lambda: not first.is_leader, 10)
            # The server ends the vanished session (TCP keepalives, ~25 s in production); the
            # proxy's reset stands in for that here.
            proxy.refuse()
            taken_over = await _until(lambda: second.is_leader, 10)
            print(
                f"\nleader partitioned: stepped down after {stepped_down:.2f} s; follower led "
                f"{taken_over:.2f} s after the session ended (poll {POLL} s)"
            )
            assert overlap == []
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await cut_off.dispose()
            await direct.dispose()
