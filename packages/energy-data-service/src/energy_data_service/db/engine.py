"""The async engine for SQLite (embedded default) or PostgreSQL (asyncpg)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """Build the engine; for SQLite create the file's directory and set the pragmas we rely on.

    SQLite runs in WAL mode (readers never block the writer, so the API can read while a
    backfill writes), with foreign keys on and a busy timeout so a second process waits for the
    write lock instead of failing at once.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_driver_name() == "asyncpg":
        # Bulk upserts COPY into a session temp table: give it room in memory (the default
        # 8 MB spills a 100k-row batch to temp files). A ceiling per session, not a reservation.
        connect_args = dict(kwargs.pop("connect_args", {}))
        settings = {"temp_buffers": "64MB", **connect_args.get("server_settings", {})}
        connect_args["server_settings"] = settings
        kwargs["connect_args"] = connect_args
    return create_async_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def is_sqlite(engine: AsyncEngine) -> bool:
    """True for the embedded SQLite backend."""
    return engine.dialect.name == "sqlite"
