"""The limits every route puts on times, days and row ids, shared so they read the same.

Stored data lives between 1900 and 2200 (the data API's bounds): a time outside them is a typo
or a probe, and converting it to UTC can overflow ``datetime`` (``9999-12-31T23:59-05:00``), so
it is refused with a 400 naming the parameter before anything computes with it. Row ids are
bounded by the narrowest id column (PostgreSQL ``integer``), so a larger id is simply not found
instead of overflowing the driver.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from fastapi import HTTPException, status

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
MAX_ROW_ID = 2**31 - 1


def out_of_range(name: str) -> HTTPException:
    """The 400 for a time or day outside the bounds."""
    return HTTPException(
        status.HTTP_400_BAD_REQUEST,
        f"{name} out of range: use dates between {EARLIEST.year} and {LATEST.year}",
    )


def bounded_time(value: datetime, name: str) -> datetime:
    """``value`` as aware UTC (naive means UTC), or a 400 when outside 1900–2200."""
    try:
        moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise out_of_range(name) from None
    if not EARLIEST <= moment <= LATEST:
        raise out_of_range(name)
    return moment


def bounded_day(value: date, name: str) -> date:
    """``value``, or a 400 when outside 1900–2200 (local-day arithmetic would overflow)."""
    if not EARLIEST.date() <= value < LATEST.date():
        raise out_of_range(name)
    return value


def is_row_id(value: int) -> bool:
    """Whether ``value`` can name a stored row at all."""
    return 0 < value <= MAX_ROW_ID
