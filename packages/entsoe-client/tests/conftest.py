"""Shared fixtures: a FakePlatform on loopback and clients tuned for fast tests."""

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from entsoe_client import EntsoeClient
from entsoe_client.testing import FakePlatform

TOKEN = "tok-5ecret-3f9a1c"

ClientFactory = Callable[..., EntsoeClient]


@pytest.fixture
def platform() -> Iterator[FakePlatform]:
    with FakePlatform(token=TOKEN) as running:
        yield running


@pytest.fixture
async def make_client(platform: FakePlatform) -> AsyncIterator[ClientFactory]:
    """Clients on the fake platform with short backoff; closed after the test."""
    clients: list[EntsoeClient] = []

    def factory(**overrides: Any) -> EntsoeClient:
        options: dict[str, Any] = {
            "base_url": platform.url,
            "requests_per_minute": None,
            "timeout": 2.0,
            "max_retries": 3,
            "backoff_base": 0.01,
            "backoff_max": 0.05,
            "max_rate_limit_wait": 5.0,
        }
        options.update(overrides)
        client = EntsoeClient(options.pop("api_token", TOKEN), **options)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        await client.aclose()
