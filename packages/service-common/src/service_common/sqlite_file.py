"""The file behind a SQLite URL: what to create, lock or copy before SQLite opens it."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import URL


def sqlite_file(url: URL) -> Path | None:
    """The database file of a SQLite URL, ``~`` expanded.

    None where there is no plain file to act on: another backend, an in-memory database, or a
    ``file:`` URI (SQLite resolves its path and options itself).
    """
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).expanduser()
