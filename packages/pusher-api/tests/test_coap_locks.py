"""Per-device locks of the CoAP connector: one device at a time, idle devices forgotten."""

from __future__ import annotations

import asyncio

from pusher_api.connector.coap.locks import DeviceLocks


async def test_one_device_waits_other_devices_do_not_and_idle_locks_are_dropped() -> None:
    locks = DeviceLocks()
    order: list[str] = []
    first_inside = asyncio.Event()
    release = asyncio.Event()

    async def first() -> None:
        async with locks.hold("a"):
            order.append("a1 in")
            first_inside.set()
            await release.wait()
            order.append("a1 out")

    async def second_of_same_device() -> None:
        await first_inside.wait()
        async with locks.hold("a"):
            order.append("a2 in")

    async def other_device() -> None:
        await first_inside.wait()
        async with locks.hold("b"):
            order.append("b in")

    tasks = [asyncio.create_task(f()) for f in (first, second_of_same_device, other_device)]
    await first_inside.wait()
    for _ in range(5):
        await asyncio.sleep(0)
    assert order == ["a1 in", "b in"]  # b did not wait for a; a's second exchange did
    assert len(locks) == 1  # b is idle again; a is held and waited for
    release.set()
    await asyncio.gather(*tasks)
    assert order == ["a1 in", "b in", "a1 out", "a2 in"]
    assert len(locks) == 0
