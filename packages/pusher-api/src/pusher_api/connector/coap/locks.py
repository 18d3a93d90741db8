"""One asyncio lock per device, kept only while someone holds or waits for it.

A check-in, a result and a cancellation of one device must not interleave (a command handed
over while it is being withdrawn would reach the device after its cancellation); different
devices never wait for each other. Locks of idle devices are dropped, so a fleet of millions
costs memory only for the devices talking at the moment.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class DeviceLocks:
    """``async with locks.hold(device_id):`` serialises one device's exchanges."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, device_id: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(device_id, (asyncio.Lock(), 0))
        self._locks[device_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[device_id]
            if users == 1:
                del self._locks[device_id]
            else:
                self._locks[device_id] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)
