"""Shared fixtures: every database test runs twice, on SQLite and on real PostgreSQL.

- ``database_url``: a fresh SQLite file, or a fresh PostgreSQL database on 127.0.0.1:5432
  (user ``postgres``, created with a unique name and dropped afterwards). PostgreSQL being down
  is an error, never a skip.
- ``engine``: an engine on that database with all migrations applied.
- ``fake_platform``: the ENTSO-E stand-in (real HTTP on loopback) from ``entsoe_client.testing``.
- ``settings`` / ``container``: the service configured against both, pacing off.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from energy_data_service.container import Container
from energy_data_service.db.engine import create_engine
from energy_data_service.db.migrate import upgrade
from energy_data_service.settings import Settings
from entsoe_client import EntsoeClient
from entsoe_client.testing import FakePlatform
from sqlalchemy.ext.asyncio import AsyncEngine

POSTGRES_HOST = os.environ.get("TEST_POSTGRES_HOST", "127.0.0.1")
POSTGRES_PORT = int(os.environ.get("TEST_POSTGRES_PORT", "5432"))
POSTGRES_USER = os.environ.get("TEST_POSTGRES_USER", "postgres")
TOKEN = "test-token"


async def _admin(statement: str) -> None:
    try:
        connection = await asyncpg.connect(
            host=POSTGRES_HOST, port=POSTGRES_PORT, user=POSTGRES_USER, database="postgres"
        )
    except (OSError, asyncpg.PostgresError) as error:
        raise RuntimeError(
            f"PostgreSQL is not reachable on {POSTGRES_HOST}:{POSTGRES_PORT} ({error}). Start it "
            "with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
        ) from error
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped after the test."""
    name = f"eds_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+asyncpg://{POSTGRES_USER}@{POSTGRES_HOST}:{POSTGRES_PORT}/{name}"
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite file in the test's temporary directory."""
    return f"sqlite+aiosqlite:///{tmp_path / 'energy.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """The same test on both backends."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(fixture))


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A migrated engine on ``database_url``."""
    engine = create_engine(database_url)
    await upgrade(engine)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def fake_platform() -> Iterator[FakePlatform]:
    """The ENTSO-E stand-in on loopback, accepting ``TOKEN``."""
    with FakePlatform(token=TOKEN) as platform:
        yield platform


@pytest.fixture
async def client(fake_platform: FakePlatform) -> AsyncIterator[EntsoeClient]:
    """A client of the fake platform, which answers at PT15M; fast retries, pacing off."""
    fake_platform.resolution = "PT15M"
    async with EntsoeClient(
        TOKEN, base_url=fake_platform.url, requests_per_minute=None, backoff_base=0.01
    ) as built:
        yield built


@pytest.fixture
def settings(database_url: str, fake_platform: FakePlatform) -> Settings:
    """Settings pointing at the test database and the fake platform, pacing off."""
    return Settings(
        database={"url": database_url},
        entsoe={"api_token": TOKEN, "base_url": fake_platform.url, "requests_per_minute": None},
        collection={"areas": ["DE_LU"], "data_types": ["actual_load"], "lookback_days": 2},
    )


@pytest.fixture
async def container(settings: Settings) -> AsyncIterator[Container]:
    """The composition root on the test database (migrated), closed afterwards."""
    async with Container(settings) as built:
        yield built


@pytest.fixture
def cli_env(settings: Settings, tmp_path: Path) -> dict[str, str]:
    """Environment for running ``energy-data`` against the test database and fake platform."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ENTSOE", "DATABASE__"))}
    env.update(
        DATABASE__URL=settings.database.url,
        ENTSOE__API_TOKEN=TOKEN,
        ENTSOE__BASE_URL=settings.entsoe.base_url,
        ENTSOE__REQUESTS_PER_MINUTE="",
        NO_COLOR="1",
        COLUMNS="200",
    )
    return env
