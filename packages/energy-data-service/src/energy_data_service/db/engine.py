"""The async engine for SQLite (embedded default) or PostgreSQL (asyncpg)."""

from __future__ import annotations

from typing import Any

from service_common import sqlite_file
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


def create_engine(
    url: str,
    *,
    connect_timeout: float = 5.0,
    command_timeout: float = 15.0,
    pool_timeout: float = 5.0,
    **kwargs: Any,
) -> AsyncEngine:
    """Build the engine; for SQLite create the file's directory and set the pragmas we rely on.

    SQLite runs in WAL mode (readers never block the writer, so the API can read while a
    backfill writes), with foreign keys on and a busy timeout so a second process waits for the
    write lock instead of failing at once.

    PostgreSQL gets a bound on every wait, so a network partition (connections accepted,
    nothing answering) is an error within seconds, answered 503, instead of a request hanging for
    the whole outage: ``connect_timeout`` for a new connection, ``command_timeout`` for one
    statement (and the pool's liveness ping), ``pool_timeout`` for a free connection. The
    server's TCP keepalives are shortened too, so PostgreSQL ends the session of a client that
    vanished (a crashed host) within about half a minute rather than two hours — and with it any
    advisory lock that session held.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = sqlite_file(parsed)
        if database is not None:
            database.parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_driver_name() == "asyncpg":
        # Bulk upserts COPY into a session temp table: give it room in memory (the default
        # 8 MB spills a 100k-row batch to temp files). A ceiling per session, not a reservation.
        connect_args = dict(kwargs.pop("connect_args", {}))
        settings = {
            "temp_buffers": "64MB",
            "tcp_keepalives_idle": "10",
            "tcp_keepalives_interval": "5",
            "tcp_keepalives_count": "3",
            **connect_args.get("server_settings", {}),
        }
        connect_args["server_settings"] = settings
        connect_args.setdefault("timeout", connect_timeout)
        connect_args.setdefault("command_timeout", command_timeout)
        kwargs["connect_args"] = connect_args
        kwargs.setdefault("pool_timeout", pool_timeout)
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
