"""Client-side pacing keeps under the configured rate, for sequential and concurrent calls."""

import asyncio
import time

import pytest
from entsoe_client._transport import RequestPacer
from entsoe_client.testing import FakePlatform, Reply

from .conftest import ClientFactory

PARAMS = {"documentType": "A65", "processType": "A16", "outBiddingZone_Domain": "10YNL----------L"}
PARAMS |= {"periodStart": "202403010000", "periodEnd": "202403010100"}
RATE = 1200  # requests per minute: one every 50 ms
INTERVAL = 60 / RATE
REQUESTS = 20


def arrival_span(platform: FakePlatform) -> float:
    """Seconds between the first and the last request the server received."""
    times = [r.at for r in platform.requests]
    return max(times) - min(times)


async def test_sequential_requests_are_paced(
    platform: FakePlatform, make_client: ClientFactory
) -> None:
    client = make_client(requests_per_minute=RATE)
    started = time.monotonic()
    for _ in range(REQUESTS):
        await client.request(PARAMS)
    elapsed = time.monotonic() - started
    expected = (REQUESTS - 1) * INTERVAL
    assert expected * 0.95 <= elapsed <= expected + 3.0  # upper bound: generous, CI is busy
    assert arrival_span(platform) >= expected - 0.2


async def test_concurrent_calls_share_one_limit(
    platform: FakePlatform, make_client: ClientFactory
) -> None:
    client = make_client(requests_per_minute=RATE)
    started = time.monotonic()
    await asyncio.gather(*(client.request(PARAMS) for _ in range(REQUESTS)))
    elapsed = time.monotonic() - started
    assert elapsed >= (REQUESTS - 1) * INTERVAL * 0.95
    assert len(platform.requests) == REQUESTS
    # arrivals at the server are spread out, not a burst
    assert arrival_span(platform) >= (REQUESTS - 1) * INTERVAL - 0.2


async def test_pacing_off_never_waits() -> None:
    pacer = RequestPacer(None)
    started = time.monotonic()
    for _ in range(1000):
        await pacer.wait()
    assert time.monotonic() - started < 0.5


async def test_pacer_reserves_evenly_spaced_slots() -> None:
    pacer = RequestPacer(RATE)
    started = time.monotonic()
    await asyncio.gather(*(pacer.wait() for _ in range(REQUESTS)))
    elapsed = time.monotonic() - started
    assert (REQUESTS - 1) * INTERVAL * 0.95 <= elapsed <= (REQUESTS - 1) * INTERVAL + 0.5


async def test_a_429_pauses_every_concurrent_caller(
    platform: FakePlatform, make_client: ClientFactory
) -> None:
    platform.enqueue(Reply.rate_limited(retry_after=0.5))
    client = make_client(requests_per_minute=None)
    first = asyncio.create_task(client.request(PARAMS))
    pacer = client._transport._pacer
    deadline = time.monotonic() + 5
    while pacer._next_slot <= time.monotonic():  # until the 429 has been read and pauses
        assert time.monotonic() < deadline, "the 429 never paused the pacer"
        await asyncio.sleep(0.01)
    await asyncio.gather(first, *(client.request(PARAMS) for _ in range(4)))
    limited_at = next(r.at for r in platform.requests if r.status == 429)
    later = [r.at for r in platform.requests if r.status == 200]
    assert len(later) == 5
    assert min(later) - limited_at >= 0.45


def test_pacer_rejects_a_nonsense_rate() -> None:
    with pytest.raises(ValueError, match="positive"):
        RequestPacer(0)
