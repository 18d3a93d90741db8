"""The store's async engine: SQLite tuned for concurrent writes, PostgreSQL with bounded waits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from pusher_api.store.sqlite_writer import SQLITE_PRAGMAS


def create_store_engine(
    url: str, timeout_s: float, **options: Any
) -> tuple[AsyncEngine, str | None]:
    """The engine for `url`, and the SQLite file behind it (None for PostgreSQL or memory).

    On PostgreSQL connecting, each statement and waiting for a pooled connection are bounded by
    `timeout_s`, and the server's TCP keepalives are shortened (see `CommandStore.open`).
    `options` go to `create_async_engine` as they are.
    """
    parsed = make_url(url)
    sqlite_file: str | None = None
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
            sqlite_file = database
        options.setdefault("connect_args", {"timeout": 30})
    else:
        if "poolclass" not in options:
            options.update(
                pool_size=10, max_overflow=10, pool_pre_ping=True, pool_timeout=timeout_s
            )
        options.setdefault(
            "connect_args",
            {
                "timeout": timeout_s,
                "command_timeout": timeout_s,
                "server_settings": {
                    "tcp_keepalives_idle": "10",
                    "tcp_keepalives_interval": "5",
                    "tcp_keepalives_count": "3",
                },
            },
        )
    engine = create_async_engine(url, **options)
    if parsed.get_backend_name() == "sqlite":

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            for pragma in SQLITE_PRAGMAS:
                cursor.execute(pragma)
            cursor.close()

    return engine, sqlite_file
