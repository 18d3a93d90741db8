"""Bring the command store to the newest schema with its Alembic migrations.

`CommandStore.open` calls `upgrade` before anything else, and `pusher-api serve` runs it once
more before it starts serving, so a fresh database, a store of an older revision and a store
created before the pusher had migrations (tables there, no version row: revision 0001 completes
it in place) all end at the newest schema without losing a row.

Replicas that start together migrate one at a time (``service_common.migrations``): on
PostgreSQL under a transaction-scoped advisory lock (the id the store took for the same purpose
before it had migrations, so an old replica and a new one also take turns), on an SQLite file
under an exclusive lock on a ``.migrate-lock`` file beside it. The second finds the schema
current and changes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from service_common.migrations import advisory_lock, run_upgrade, sqlite_file_lock
from service_common.migrations import alembic_config as _alembic_config
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import NullPool

from pusher_api.store.engine import create_store_engine
from pusher_api.store.schema import VERSION_TABLE

MIGRATIONS = Path(__file__).with_name("migrations")
MIGRATION_LOCK = 7215461
"""The PostgreSQL advisory lock id held while migrating."""


def alembic_config(url: str = "") -> Config:
    """Alembic configuration for the store's scripts, without an ini file."""
    return _alembic_config(MIGRATIONS, url)


def head() -> str:
    """The newest revision."""
    revision = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert revision is not None
    return revision


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Migrate the database behind `engine` to `revision`, one process at a time."""
    async with sqlite_file_lock(engine), engine.begin() as connection:
        await advisory_lock(connection, MIGRATION_LOCK)
        await connection.run_sync(run_upgrade, MIGRATIONS, "", revision)


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at (None before its first migration)."""
    async with engine.connect() as connection:
        return await connection.run_sync(_current)


def _current(connection: Connection) -> str | None:
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


MIGRATION_TIMEOUT_S = 120.0
"""How long migrating may wait for a connection, the lock, or one statement."""


async def migrate(url: str, revision: str = "head") -> None:
    """Migrate the database at `url` on an engine of its own (one connection, long waits)."""
    engine, _ = create_store_engine(
        url,
        MIGRATION_TIMEOUT_S,
        poolclass=NullPool,
        connect_args=_connect_args(url),
    )
    try:
        await upgrade(engine, revision)
    finally:
        await engine.dispose()


def _connect_args(url: str) -> dict[str, Any]:
    if make_url(url).get_backend_name() == "sqlite":
        return {"timeout": MIGRATION_TIMEOUT_S}
    return {"timeout": MIGRATION_TIMEOUT_S, "command_timeout": MIGRATION_TIMEOUT_S}
