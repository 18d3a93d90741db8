"""Coalescing concurrent calls: items from many callers are processed together, in groups."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class Coalescer(Generic[Item, Result]):
    """Collects items from concurrent callers and hands them to `process` a group at a time.

    Each caller waits for its own result. While a group is being processed the next one fills
    up, so under load fixed costs (a commit, a Kafka round trip, a wake-up of the store's
    thread) are paid once per group, not once per item; with no load a group is one item and
    nothing waits. Up to `max_in_flight` groups run at once, so one group's wait for the
    broker overlaps the next one's write.
    """

    def __init__(
        self,
        process: Callable[[list[Item]], Awaitable[Sequence[Result]]],
        max_in_flight: int = 2,
    ):
        self._process = process
        self._max_in_flight = max_in_flight
        self._pending: list[tuple[Item, asyncio.Future[Result]]] = []
        self._running: set[asyncio.Task[None]] = set()

    async def submit(self, item: Item) -> Result:
        """Queue `item`; returns its result (or raises the group's error) once its group is
        processed."""
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if len(self._running) < self._max_in_flight:
            task = asyncio.create_task(self._drain())
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        return await future

    async def _drain(self) -> None:
        while self._pending:
            group, self._pending = self._pending, []
            try:
                results = await self._process([item for item, _ in group])
            except Exception as error:  # every caller of the group sees the failure
                for _, future in group:
                    if not future.done():
                        future.set_exception(error)
            else:
                for (_, future), result in zip(group, results, strict=True):
                    if not future.done():
                        future.set_result(result)
