"""The Alembic machinery both services migrate with; each keeps its scripts, table and rules.

A service's ``migrate`` module names its scripts folder, its advisory lock id and its version
table, and decides what else its upgrade does (the energy data service reads the version without
a lock first and copies a SQLite file before migrating it). What is the same for both lives
here: a configuration without an ini file, the upgrade run on a connection handed in, the
migrators' turn-taking, and the body of the ``env.py`` Alembic runs.

Processes that start together migrate one at a time: on PostgreSQL under a transaction-scoped
advisory lock (``advisory_lock``), on an SQLite file under an exclusive lock on a
``.migrate-lock`` file beside it (``sqlite_file_lock``), so the second finds the schema current.

Kept out of the package root (import ``service_common.migrations``): only migrating loads Alembic.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from service_common.sqlite_file import sqlite_file

DEFAULT_VERSION_TABLE = "alembic_version"


def alembic_config(scripts: Path, url: str = "") -> Config:
    """Alembic configuration without an ini file (each package carries its own scripts)."""
    config = Config()
    config.set_main_option("script_location", str(scripts))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def run_upgrade(connection: Connection, scripts: Path, url: str, revision: str) -> None:
    """Run Alembic's upgrade to ``revision`` on ``connection`` (``env.py`` takes it as given)."""
    config = alembic_config(scripts, url)
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def advisory_lock(connection: AsyncConnection, lock_id: int) -> None:
    """On PostgreSQL, wait for the advisory lock ``lock_id`` until the transaction ends."""
    if connection.dialect.name == "postgresql":
        await connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})


@contextlib.asynccontextmanager
async def sqlite_file_lock(engine: AsyncEngine) -> AsyncIterator[None]:
    """Hold an exclusive lock on ``<database>.migrate-lock`` (SQLite files only)."""
    database = sqlite_file(engine.url)
    if database is None:
        yield
        return
    try:
        import fcntl
    except ImportError:  # Windows: starting one process at a time is up to the operator
        yield
        return
    lock = await asyncio.to_thread(_open_lock_file, database)
    try:
        await asyncio.to_thread(fcntl.flock, lock.fileno(), fcntl.LOCK_EX)
        yield
    finally:
        lock.close()  # closing the descriptor releases the lock


def _open_lock_file(database: Path) -> BinaryIO:
    database.parent.mkdir(parents=True, exist_ok=True)
    return database.with_name(database.name + ".migrate-lock").open("a+b")


def run_environment(metadata: MetaData, version_table: str = DEFAULT_VERSION_TABLE) -> None:
    """The body of a service's ``env.py``: migrate on the connection handed over, or alone.

    A service migrates through its ``migrate.upgrade``, which passes its connection in
    ``config.attributes``. Running the ``alembic`` command directly also works: an async engine
    is built from ``sqlalchemy.url`` and the migrations run in ``run_sync``. SQLite tables are
    altered in batch mode (copy and swap), as SQLite alters little in place.
    """
    config = context.config

    def run(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table=version_table,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run_standalone() -> None:
        engine = create_async_engine(config.get_main_option("sqlalchemy.url") or "")
        async with engine.connect() as connection:
            await connection.run_sync(run)
            await connection.commit()
        await engine.dispose()

    if context.is_offline_mode():
        context.configure(
            url=config.get_main_option("sqlalchemy.url"),
            target_metadata=metadata,
            version_table=version_table,
        )
        with context.begin_transaction():
            context.run_migrations()
    elif (given := config.attributes.get("connection")) is not None:
        run(given)
    else:
        asyncio.run(run_standalone())
