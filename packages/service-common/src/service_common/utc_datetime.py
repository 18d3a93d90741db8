"""The timestamp column type of both services: aware UTC datetimes in and out.

A naive datetime is refused when bound: it has no zone, so storing it would mean guessing one
(local time, silently, is how such bugs hide). SQLite keeps no zone, so it stores the UTC wall
time as text (``2026-01-02 03:04:05.000006``) and what is read back is marked UTC again;
PostgreSQL stores a ``timestamptz``. Either way a value reads back as the same instant, aware,
in UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, overload

from sqlalchemy import DateTime, Dialect
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out; a naive datetime is a bug and is refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: timestamps must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # raw SQLite text (an aggregate loses the column type)
            value = datetime.fromisoformat(value)
        moment: datetime = value
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)


@overload
def sqlite_timestamp(value: datetime) -> str: ...
@overload
def sqlite_timestamp(value: None) -> None: ...
def sqlite_timestamp(value: datetime | None) -> str | None:
    """The text SQLite stores for ``value`` (what ``UtcDateTime`` writes), for statements that
    bind raw values (bulk inserts) and must compare equal with rows written through the type."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: timestamps must be timezone-aware")
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")
