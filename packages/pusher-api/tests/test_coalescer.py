"""Coalescer: concurrent callers' items are processed in groups, each caller gets its own result."""

from __future__ import annotations

import asyncio

import pytest
from pusher_api.coalescer import Coalescer


async def test_concurrent_items_share_groups_and_each_caller_gets_its_result() -> None:
    groups: list[list[int]] = []

    async def double(items: list[int]) -> list[int]:
        groups.append(items)
        await asyncio.sleep(0.01)  # the next group fills up meanwhile
        return [item * 2 for item in items]

    coalescer = Coalescer(double)
    results = await asyncio.gather(*(coalescer.submit(n) for n in range(100)))

    assert results == [n * 2 for n in range(100)]
    assert sorted(item for group in groups for item in group) == list(range(100))
    assert len(groups) < 10  # grouped, not one call per item


async def test_alone_an_item_is_processed_at_once() -> None:
    calls: list[list[str]] = []

    async def echo(items: list[str]) -> list[str]:
        calls.append(items)
        return items

    coalescer = Coalescer(echo)
    assert await coalescer.submit("a") == "a"
    assert await coalescer.submit("b") == "b"
    assert calls == [["a"], ["b"]]


async def test_one_group_runs_at_a_time() -> None:
    running = 0
    most = 0

    async def slow(items: list[int]) -> list[int]:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.005)
        running -= 1
        return items

    async def arrive_later(n: int) -> int:
        await asyncio.sleep(n * 0.001)  # items keep arriving while groups are processed
        return await coalescer.submit(n)

    coalescer = Coalescer(slow)
    assert await asyncio.gather(*(arrive_later(n) for n in range(50))) == list(range(50))
    assert most == 1


async def test_a_failing_group_fails_each_of_its_callers_and_not_the_next() -> None:
    async def fail_on_negative(items: list[int]) -> list[int]:
        if any(item < 0 for item in items):
            raise ValueError("negative")
        return items

    coalescer = Coalescer(fail_on_negative)
    outcomes = await asyncio.gather(
        coalescer.submit(1), coalescer.submit(-1), return_exceptions=True
    )
    assert all(isinstance(outcome, ValueError) for outcome in outcomes)
    assert await coalescer.submit(3) == 3


async def test_a_cancelled_caller_does_not_break_its_group() -> None:
    release = asyncio.Event()

    async def wait(items: list[int]) -> list[int]:
        await release.wait()
        return items

    coalescer = Coalescer(wait)
    first = asyncio.ensure_future(coalescer.submit(1))
    second = asyncio.ensure_future(coalescer.submit(2))
    await asyncio.sleep(0)
    first.cancel()
    release.set()
    assert await second == 2
    with pytest.raises(asyncio.CancelledError):
        await first
