"""Local days in UTC, and the intervals a series should have in one (DST-aware)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from energy_data_service.domain import step_end


def local_day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """UTC start and end of ``day`` in ``zone``: 23, 24 or 25 hours apart."""
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return start, end


def expected_intervals(day: date, zone: ZoneInfo, resolution: str) -> list[datetime]:
    """Interval starts (UTC) a series of ``resolution`` should hold for local ``day``.

    Sub-daily series step from local midnight: 92, 96 or 100 quarter-hours. A series of a day
    or longer is expected to have the one interval that covers local midnight, whose start may
    lie before the day (a weekly value starting on Monday covers Wednesday).
    """
    start, end = local_day_bounds(day, zone)
    steps: list[datetime] = []
    cursor = start
    while cursor < end:
        steps.append(cursor)
        nxt = step_end(cursor, resolution, zone)
        if nxt - cursor >= timedelta(hours=23):
            break
        cursor = nxt
    return steps
