"""Tell a status-store outage from a fault: the first is a 503 to retry, the second a logged 500.

An exception whose cause chain holds a refused or lost connection, a timeout (connect, command
or pool), PostgreSQL shutting down, or SQLite busy means the store cannot be reached right now:
the client should retry, and is told so with `Retry-After`. Anything else (a bad statement, a
constraint the code did not expect) is a bug and must not hide behind "retry later".
"""

from __future__ import annotations

import sqlite3

import asyncpg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

_OUTAGE_CAUSES: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    PoolTimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.InterfaceError,
)


def is_store_outage(error: BaseException) -> bool:
    """True when ``error`` (or what caused it) means the store cannot be reached right now."""
    seen: BaseException | None = error
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, DBAPIError) and seen.connection_invalidated:
            return True
        if isinstance(seen, _OUTAGE_CAUSES):
            return True
        if isinstance(seen, sqlite3.OperationalError) and "locked" in str(seen):
            return True
        seen = getattr(seen, "orig", None) or seen.__cause__ or seen.__context__
    return False
