"""The API under test: a real uvicorn server on a free loopback port, real HTTP via httpx.

``live_api`` serves a container on the test database with collection off (no token), so the
scheduler stays out of the API's tests; ``seed`` stores generated points through the real
repository.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from energy_data_service.api.main import create_app
from energy_data_service.container import Container
from energy_data_service.domain import EnergyPoint
from energy_data_service.settings import Settings

DE_LU = "10Y1001A1001A82H"


@dataclass
class LiveApi:
    """A running server: its base URL, an HTTP client on it, and the container behind it."""

    url: str
    http: httpx.AsyncClient
    container: Container


@contextlib.asynccontextmanager
async def serve(settings: Settings) -> AsyncIterator[LiveApi]:
    """Run ``create_app`` under uvicorn on port 0 (the OS picks a free one) in this loop."""
    async with Container(settings) as container:
        config = uvicorn.Config(
            create_app(container), host="127.0.0.1", port=0, lifespan="on", log_level="warning"
        )
        server = uvicorn.Server(config)
        server.capture_signals = contextlib.nullcontext  # type: ignore[assignment]
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        url = f"http://127.0.0.1:{port}"
        try:
            async with httpx.AsyncClient(base_url=url, timeout=30, trust_env=False) as http:
                yield LiveApi(url, http, container)
        finally:
            server.should_exit = True
            await task


def api_settings(database_url: str, **overrides: Any) -> Settings:
    """Settings for the API tests: the test database, no token (collection off), and no reuse
    of ``/latest`` answers unless a test asks for it."""
    overrides.setdefault("api", {})
    overrides["api"].setdefault("latest_cache_seconds", 0)
    return Settings(database={"url": database_url}, entsoe={"api_token": None}, **overrides)


@pytest.fixture
async def live_api(database_url: str) -> AsyncIterator[LiveApi]:
    async with serve(api_settings(database_url)) as api:
        yield api


def series(
    start: datetime,
    count: int,
    *,
    step: timedelta = timedelta(minutes=15),
    resolution: str = "PT15M",
    data_type: str = "actual_load",
    area_code: str = DE_LU,
    unit: str = "MAW",
    sequence: int = 0,
    value: Callable[[int], float] = lambda i: 1000.0 + i,
) -> list[EnergyPoint]:
    """``count`` consecutive points of one series, value ``value(i)`` for the i-th."""
    fetched = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        EnergyPoint(
            area_code=area_code,
            data_type=data_type,
            business_type="A04" if data_type != "day_ahead_prices" else "A62",
            resolution=resolution,
            classification_sequence=sequence,
            timestamp=start + i * step,
            value=value(i),
            unit=unit,
            curve_type="A01",
            document_mrid="test",
            revision_number=1,
            document_created_at=None,
            fetched_at=fetched,
        )
        for i in range(count)
    ]


async def seed(container: Container, points: Iterable[EnergyPoint]) -> None:
    """Store points through the real (revision-aware) repository."""
    await container.points.upsert(list(points))
