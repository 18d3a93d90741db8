"""Apply the Alembic migrations, then switch on TimescaleDB where the server has it.

Every command that opens the database calls ``upgrade`` first, so a fresh clone and an old
database both end at the newest schema. On PostgreSQL an advisory lock serialises processes
that start at the same moment (e.g. `serve` and a `backfill`).
"""

from __future__ import annotations

from pathlib import Path

import structlog
from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from energy_data_service.db.engine import create_engine

log = structlog.get_logger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
_MIGRATION_LOCK = 7_301_001  # arbitrary advisory lock id owned by this service
COMPRESS_AFTER = "30 days"


def alembic_config(url: str) -> Config:
    """Alembic configuration without an ini file (the package carries its own scripts)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade(target: str | AsyncEngine, revision: str = "head") -> None:
    """Bring the database at ``target`` (URL or engine) to ``revision``, idempotently."""
    engine = create_engine(target) if isinstance(target, str) else target
    try:
        async with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                await connection.execute(
                    text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK}
                )
            url = engine.url.render_as_string(hide_password=False)
            await connection.run_sync(_run_alembic, url, revision)
        if engine.dialect.name == "postgresql":
            await enable_timescaledb(engine)
    finally:
        if isinstance(target, str):
            await engine.dispose()


def _run_alembic(connection: Connection, url: str, revision: str) -> None:
    config = alembic_config(url)
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def enable_timescaledb(engine: AsyncEngine) -> bool:
    """Make ``energy_points`` a compressed hypertable when TimescaleDB is available.

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
    steps = (
        (
            "SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'",
            "CREATE EXTENSION IF NOT EXISTS timescaledb",
        ),
        (
            "SELECT 1 FROM timescaledb_information.hypertables"
            " WHERE hypertable_name = 'energy_points'",
            "SELECT create_hypertable('energy_points', 'timestamp',"
            " chunk_time_interval => INTERVAL '30 days', migrate_data => TRUE,"
            " if_not_exists => TRUE)",
        ),
        (
            "SELECT 1 FROM timescaledb_information.hypertables"
            " WHERE hypertable_name = 'energy_points' AND compression_enabled",
            "ALTER TABLE energy_points SET (timescaledb.compress,"
            " timescaledb.compress_segmentby = 'area_code, data_type, business_type,"
            " resolution, classification_sequence',"
            " timescaledb.compress_orderby = '\"timestamp\"')",
        ),
        (
            "SELECT 1 FROM timescaledb_information.jobs"
            " WHERE proc_name = 'policy_compression' AND hypertable_name = 'energy_points'",
            f"SELECT add_compression_policy('energy_points', INTERVAL '{COMPRESS_AFTER}',"
            " if_not_exists => TRUE)",
        ),
    )
    for check, statement in steps:
        try:
            async with engine.begin() as connection:
                if await _exists(connection, check):
                    continue
                await connection.execute(text(statement))
        except Exception as error:  # the extension may be listed but not preloaded
            log.warning("timescaledb step skipped", statement=statement, error=str(error))
            return False
    return True


async def _exists(connection: AsyncConnection, query: str) -> bool:
    return bool(await connection.scalar(text(query)))
