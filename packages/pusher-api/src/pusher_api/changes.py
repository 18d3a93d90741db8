"""Status changes of commands, fanned out in the process to whoever watches them.

The store publishes every change it learns of (its own writes on SQLite; every replica's writes,
heard through PostgreSQL's NOTIFY, on PostgreSQL). A change carries only which command moved
and to what state; a watcher reads the command's row when it wants the rest, so it always shows
committed state, and a missed or repeated change does no harm. Watchers are server-sent event
streams (one command, or one device's commands), the cancel route waiting for a connector's
answer, and the webhook sender (woken by an event, it needs no list of changes).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import NamedTuple


class Change(NamedTuple):
    """Command `request_id` of `device_id` moved to `status` (the device may be "" when the
    writer did not know it)."""

    request_id: str
    device_id: str
    status: str


RESYNC = Change("", "", "")
"""Put in every watcher's queue when changes may have been missed (the listener reconnected):
watchers then read their commands again."""


class ChangeFeed:
    """In-process fan-out of changes to asyncio queues, by request id, by device, or all."""

    def __init__(self) -> None:
        self._by_request: dict[str, set[asyncio.Queue[Change]]] = {}
        self._by_device: dict[str, set[asyncio.Queue[Change]]] = {}
        self._everything: set[asyncio.Queue[Change]] = set()
        self._wakers: set[asyncio.Event] = set()
        self.listening = True
        """False while changes from other replicas cannot be heard (PostgreSQL listener
        down)."""

    @property
    def watched(self) -> bool:
        """Whether anyone watches at all: the hot path skips building changes otherwise."""
        return bool(self._by_request or self._by_device or self._everything or self._wakers)

    @contextmanager
    def woken(self) -> Iterator[asyncio.Event]:
        """An event set whenever changes are published (once per published group, whatever
        its size), for a watcher that only needs to know that something moved: it costs the
        hot path nothing per change, where a queue of every change cost two queue operations
        per command (a tenth of a batch's time in the profile)."""
        event = asyncio.Event()
        self._wakers.add(event)
        try:
            yield event
        finally:
            self._wakers.discard(event)

    @contextmanager
    def watch(
        self, *, request_id: str | None = None, device_id: str | None = None
    ) -> Iterator[asyncio.Queue[Change]]:
        """A queue of the changes of one command, of one device's commands, or (neither
        given) of every command, for the duration of the block."""
        queue: asyncio.Queue[Change] = asyncio.Queue()
        if request_id is not None:
            registry: set[asyncio.Queue[Change]] = self._by_request.setdefault(request_id, set())
        elif device_id is not None:
            registry = self._by_device.setdefault(device_id, set())
        else:
            registry = self._everything
        registry.add(queue)
        try:
            yield queue
        finally:
            registry.discard(queue)
            if request_id is not None and not registry:
                self._by_request.pop(request_id, None)
            elif device_id is not None and not registry:
                self._by_device.pop(device_id, None)

    def publish(self, changes: Iterable[Change]) -> None:
        """Hand each change to the queues watching its command, its device, or everything."""
        for event in self._wakers:
            event.set()
        by_request, by_device, everything = self._by_request, self._by_device, self._everything
        if not (by_request or by_device or everything):
            return
        for change in changes:
            for queue in by_request.get(change.request_id, ()):
                queue.put_nowait(change)
            for queue in by_device.get(change.device_id, ()):
                queue.put_nowait(change)
            for queue in everything:
                queue.put_nowait(change)

    def resync(self) -> None:
        """Tell every watcher to read its commands again."""
        for event in self._wakers:
            event.set()
        for registry in (*self._by_request.values(), *self._by_device.values(), self._everything):
            for queue in registry:
                queue.put_nowait(RESYNC)
