"""Fixtures for the pusher API's tests: real broker, real uvicorn, real HTTP.

- `dev_broker`: one Kafka-protocol broker (librdkafka mock cluster) in its own process for the
  session. Tests that kill a broker start their own `DevBroker`.
- `make_settings(**overrides)`: settings pointing at that broker with a fresh SQLite file, a
  unique consumer group and short timeouts; pass e.g. `kafka_command_topic=unique_topic()` to
  get a topic of your own.
- `start_api(settings=None, **overrides)`: context manager running the app under uvicorn on a
  free port (its own thread); yields a `RunningApi` (base_url, settings).
- `api` + `client`: the default service and an `httpx.AsyncClient` for it.
- `postgres_url`: a PostgreSQL database of the test's own.
"""

from __future__ import annotations

import contextlib
import itertools
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from pusher_api.app import create_app
from pusher_api.dev_broker import DevBroker
from pusher_api.settings import Settings
from pusher_api.testing.server import serve_in_thread


@dataclass(frozen=True)
class RunningApi:
    """A service under test: where it listens and how it is configured."""

    base_url: str
    settings: Settings

    def client(self, **options: Any) -> httpx.AsyncClient:
        """An HTTP client for this service (close it, e.g. `async with`).

        Tests that send hundreds of requests at once queue them for the client's 100
        connections; on a loaded machine that wait is the client's, so it has no deadline.
        """
        options.setdefault("timeout", httpx.Timeout(30, pool=None))
        return httpx.AsyncClient(base_url=self.base_url, **options)


def unique_topic(prefix: str = "commands") -> str:
    """A topic name no other test uses (the mock broker creates it on first use)."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
def dev_broker() -> Iterator[DevBroker]:
    with DevBroker() as broker:
        yield broker


_database_number = itertools.count()


@pytest.fixture
def make_settings(tmp_path: Path, dev_broker: DevBroker) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "kafka_bootstrap_servers": dev_broker.bootstrap_servers,
            "database_url": f"sqlite+aiosqlite:///{tmp_path}/pusher-{next(_database_number)}.db",
            "kafka_timeout_ms": 3000,
            "expiry_interval_s": 0.2,
            "api_keys": [],
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return make


@pytest.fixture
def start_api(
    make_settings: Callable[..., Settings],
) -> Callable[..., AbstractContextManager[RunningApi]]:
    @contextmanager
    def start(settings: Settings | None = None, **overrides: Any) -> Iterator[RunningApi]:
        settings = settings or make_settings(**overrides)
        with serve_in_thread(create_app(settings)) as base_url:
            _wait_for_kafka(base_url)
            yield RunningApi(base_url, settings)

    return start


def _wait_for_kafka(base_url: str, wait_s: float = 5.0) -> None:
    """Give the producer (which connects in the background) a moment, so a test's first
    command does not race it on a busy machine; a test of a broker that is away goes on
    after `wait_s`."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError, ValueError):
            if httpx.get(f"{base_url}/health", timeout=1).json().get("kafka_connected"):
                return
        time.sleep(0.05)


@pytest.fixture
def api(start_api: Callable[..., AbstractContextManager[RunningApi]]) -> Iterator[RunningApi]:
    with start_api() as running:
        yield running


@pytest.fixture
async def client(api: RunningApi) -> AsyncIterator[httpx.AsyncClient]:
    async with api.client() as http:
        yield http


POSTGRES_SERVER = "postgresql://postgres@127.0.0.1:5432"


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A throwaway PostgreSQL database of its own (dropped after the test)."""
    name = f"pusher_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(f"{POSTGRES_SERVER}/postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def command(**fields: Any) -> dict[str, Any]:
    """A valid command body, with `fields` replacing or adding fields."""
    body: dict[str, Any] = {
        "device_id": "sensor-001",
        "command_type": "set_config",
        "payload": {"interval_s": 60},
    }
    body.update(fields)
    return body
