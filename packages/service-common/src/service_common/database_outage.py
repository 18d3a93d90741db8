"""Whether an error means "the database cannot be reached right now" rather than a bug.

Both APIs answer such errors 503 with ``Retry-After`` and the CLI prints one line saying the
database is unreachable; anything else (a bad statement, a constraint the code did not expect)
stays a logged 500 or a traceback worth reporting, never hidden behind "retry later". The
cause chain decides: a refused or lost connection, a timeout (connect, command, pool),
PostgreSQL shutting down, or SQLite busy.
"""

from __future__ import annotations

import sqlite3

import asyncpg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

_OUTAGE_CAUSES = (
    OSError,
    TimeoutError,
    PoolTimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.InterfaceError,
)


def is_database_outage(error: BaseException) -> bool:
    """True when ``error`` (or what caused it) means the database cannot be reached right now."""
    seen: BaseException | None = error
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, DBAPIError) and seen.connection_invalidated:
            return True
        if isinstance(seen, _OUTAGE_CAUSES) and not _is_file_error(seen):
            return True
        if isinstance(seen, sqlite3.OperationalError) and "locked" in str(seen):
            return True
        seen = getattr(seen, "orig", None) or seen.__cause__ or seen.__context__
    return False


def _is_file_error(error: BaseException) -> bool:
    """An OSError about a named file (an unwritable --output) is not the database's."""
    return isinstance(error, OSError) and getattr(error, "filename", None) is not None
