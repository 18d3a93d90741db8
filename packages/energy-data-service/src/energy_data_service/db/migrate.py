"""Apply the Alembic migrations, then switch on TimescaleDB where the server has it.

Every command that opens the database calls ``upgrade`` first, so a fresh clone and an old
database both end at the newest schema. Processes that start at the same moment (e.g. `serve`
and a `backfill`) migrate one at a time (``service_common.migrations``: an advisory lock on
PostgreSQL, a ``.migrate-lock`` file beside an SQLite file, taken before the version is read and
the copy made), so the second process finds the schema current.

On SQLite a database already at the target revision is recognised by one plain read first,
without any lock (a file not yet created is opened only under the lock): the migration
transaction takes SQLite's write lock (``BEGIN IMMEDIATE``) and holds it while Alembic loads
its scripts, which on a loaded machine took seconds; every process opening the database did
that, so a busy database's writers waited out their busy timeout behind processes that had
nothing to migrate ("database is locked").

Migrations run in one transaction on both backends. Python's sqlite3 would commit DDL as it
goes, so SQLite migrations run on a connection of their own that issues ``BEGIN`` itself
(SQLite's DDL is transactional); on top of that a SQLite file with migrations pending is
copied first (``<file>.pre-migration``, SQLite's online backup) and the copy removed only
once every migration has succeeded.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import structlog
from alembic.config import Config
from alembic.script import ScriptDirectory
from service_common import sqlite_file
from service_common.migrations import advisory_lock, run_upgrade, sqlite_file_lock
from service_common.migrations import alembic_config as _alembic_config
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from energy_data_service.db.engine import create_engine

log = structlog.get_logger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
_MIGRATION_LOCK = 7_301_001  # arbitrary advisory lock id owned by this service
COMPRESS_AFTER = "30 days"


def alembic_config(url: str) -> Config:
    """Alembic configuration for this package's scripts, without an ini file."""
    return _alembic_config(MIGRATIONS, url)


async def upgrade(target: str | AsyncEngine, revision: str = "head") -> None:
    """Bring the database at ``target`` (URL or engine) to ``revision``, idempotently."""
    engine = create_engine(target) if isinstance(target, str) else target
    try:
        if engine.dialect.name == "sqlite":
            if not _sqlite_file_new(engine) and await _sqlite_at(engine, revision):
                return
            async with sqlite_file_lock(engine):
                await _upgrade_sqlite(engine.url.render_as_string(hide_password=False), revision)
            return
        async with engine.begin() as connection:
            await advisory_lock(connection, _MIGRATION_LOCK)
            url = engine.url.render_as_string(hide_password=False)
            await connection.run_sync(run_upgrade, MIGRATIONS, url, revision)
        if engine.dialect.name == "postgresql":
            await enable_timescaledb(engine)
    finally:
        if isinstance(target, str):
            await engine.dispose()


async def _upgrade_sqlite(url: str, revision: str) -> None:
    """Migrate a SQLite database in one real transaction, keeping a copy until it succeeded."""
    engine = create_async_engine(url, poolclass=NullPool, connect_args={"timeout": 30})
    event.listen(engine.sync_engine, "connect", _sqlite_manual_transactions)
    event.listen(engine.sync_engine, "begin", _sqlite_begin)
    backup: Path | None = None
    try:
        async with engine.connect() as connection:
            pending = await connection.run_sync(_pending, url, revision)
        database = sqlite_file(make_url(url))
        if pending and database is not None:
            backup = await asyncio.to_thread(_sqlite_copy, database)
        async with engine.begin() as connection:
            await connection.run_sync(run_upgrade, MIGRATIONS, url, revision)
    except Exception:
        if backup is not None:
            log.error("migration.failed", kept_copy=str(backup))
        raise
    finally:
        await engine.dispose()
    if backup is not None:
        backup.unlink(missing_ok=True)


def _sqlite_file_new(engine: AsyncEngine) -> bool:
    """True for a SQLite file not yet created (or still empty).

    The first connection to such a file switches it to WAL, which takes an exclusive lock;
    processes started together each doing that beside one creating the tables met "database is
    locked" now and then, so a new file is only opened under the migration lock.
    """
    database = sqlite_file(engine.url)
    return database is not None and _holds_nothing(database)


def _holds_nothing(database: Path) -> bool:
    return not database.exists() or database.stat().st_size == 0


async def _sqlite_at(engine: AsyncEngine, revision: str) -> bool:
    """True when the SQLite database is at ``revision`` already (read without a write lock)."""
    async with engine.connect() as connection:
        found = await connection.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        )
        if found.first() is None:
            return False  # a new database
        current = (
            await connection.exec_driver_sql("SELECT version_num FROM alembic_version")
        ).all()
    url = engine.url.render_as_string(hide_password=False)
    target = await asyncio.to_thread(_target_revision, url, revision)
    return [row[0] for row in current] == [target]


def _target_revision(url: str, revision: str) -> str | None:
    if revision != "head":
        return revision
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def _sqlite_manual_transactions(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # no implicit BEGIN/COMMIT around statements
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # a new file is WAL from its first table on
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _pending(connection: Connection, url: str, revision: str) -> bool:
    """True when the database is not yet at ``revision`` (a fresh database counts too)."""
    has_version = connection.exec_driver_sql(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
    ).first()
    if has_version is None:
        return False  # a new database: nothing to keep
    current = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    return current != _target_revision(url, revision)


def _sqlite_copy(database: Path) -> Path | None:
    """A consistent copy of a live SQLite database (WAL included) beside it, if it has data."""
    if _holds_nothing(database):
        return None
    backup = database.with_name(database.name + ".pre-migration")
    src, dst = sqlite3.connect(database), sqlite3.connect(backup)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    return backup


async def enable_timescaledb(engine: AsyncEngine) -> bool:
    """Make ``points`` and ``point_history`` compressed hypertables when TimescaleDB is there.

    Each step checks the catalogue first and runs in its own transaction, so a restart after a
    partial setup finishes the remaining steps and a second run changes nothing. Returns
    whether the table is a hypertable afterwards; plain PostgreSQL returns False untouched.
    """
    async with engine.connect() as connection:
        available = await connection.scalar(
            text("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'")
        )
    if not available:
        return False
    steps = [
        (
            "SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'",
            "CREATE EXTENSION IF NOT EXISTS timescaledb",
        )
    ]
    for table, order in (("points", '"timestamp"'), ("point_history", '"timestamp", known_from')):
        steps += [
            (
                "SELECT 1 FROM timescaledb_information.hypertables"
                f" WHERE hypertable_name = '{table}'",
                f"SELECT create_hypertable('{table}', 'timestamp',"
                " chunk_time_interval => INTERVAL '30 days', migrate_data => TRUE,"
                " if_not_exists => TRUE)",
            ),
            (
                "SELECT 1 FROM timescaledb_information.hypertables"
                f" WHERE hypertable_name = '{table}' AND compression_enabled",
                f"ALTER TABLE {table} SET (timescaledb.compress,"
                " timescaledb.compress_segmentby = 'series_id',"
                f" timescaledb.compress_orderby = '{order}')",
            ),
            (
                "SELECT 1 FROM timescaledb_information.jobs"
                f" WHERE proc_name = 'policy_compression' AND hypertable_name = '{table}'",
                f"SELECT add_compression_policy('{table}', INTERVAL '{COMPRESS_AFTER}',"
                " if_not_exists => TRUE)",
            ),
        ]
    for check, statement in steps:
        try:
            async with engine.begin() as connection:
                if await _exists(connection, check):
                    continue
                await connection.execute(text(statement))
        except Exception as error:  # the extension may be listed but not preloaded
            log.warning("migration.timescaledb_step_skipped", statement=statement, error=str(error))
            return False
    return True


async def _exists(connection: AsyncConnection, query: str) -> bool:
    return bool(await connection.scalar(text(query)))
