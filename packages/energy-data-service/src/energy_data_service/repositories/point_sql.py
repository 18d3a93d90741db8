"""The SQL that picks one series' points for a time range, now or as known at an instant.

The range rule: a point belongs to ``[start, end)`` when its interval overlaps it, i.e. it
starts before ``end`` and ends after ``start``. A fixed-step point ends at start + step, so
the condition is an index range on the start alone (``start - step < timestamp < end``). A
day, week, month or year point stores its end (``interval_end``); the start is bounded by the
longest such step and the end decides exactly.

As of an instant ``T``: the current row when it was stored by ``T`` (``known_from <= T``),
else the history row that was current at ``T`` (``known_from <= T < known_until``). At most
one of them exists per interval start, so the union needs no de-duplication.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, union_all
from sqlalchemy.sql import ColumnCollection

from energy_data_service.db.tables import point_history, points
from energy_data_service.domain import FIXED_STEPS

_CALENDAR = re.compile(r"P(\d+)([DWMY])")
_LONGEST_DAYS = {"D": 1, "W": 7, "M": 31, "Y": 366}


def longest_step(resolution: str) -> timedelta:
    """The longest interval a point of ``resolution`` can span (a DST day is 25 hours)."""
    fixed = FIXED_STEPS.get(resolution)
    if fixed is not None:
        return fixed
    match = _CALENDAR.fullmatch(resolution)
    if match is None:
        return timedelta(days=400)
    return timedelta(days=int(match[1]) * _LONGEST_DAYS[match[2]], hours=1)


def overlapping(
    columns: ColumnCollection[str, Any],
    series_id: int,
    resolution: str,
    start: datetime,
    end: datetime,
) -> list[ColumnElement[bool]]:
    """Conditions for the points of one series whose interval overlaps ``[start, end)``."""
    timestamp, interval_end = columns["timestamp"], columns["interval_end"]
    step = FIXED_STEPS.get(resolution)
    open_end = (
        timestamp > start - step if step is not None else timestamp >= start
    )  # interval_end NULL: start + step (or, for a step we cannot tell, the start alone)
    return [
        columns["series_id"] == series_id,
        timestamp < end,
        timestamp > start - longest_step(resolution),
        or_(interval_end > start, and_(interval_end.is_(None), open_end)),
    ]


def starting_within(
    columns: ColumnCollection[str, Any], series_id: int, start: datetime, end: datetime
) -> list[ColumnElement[bool]]:
    """Conditions for the points of one series that start in ``[start, end)``."""
    timestamp = columns["timestamp"]
    return [columns["series_id"] == series_id, timestamp >= start, timestamp < end]


def point_rows(
    names: Sequence[str],
    where: Any,
    as_of: datetime | None = None,
    *,
    limit: int | None = None,
) -> Any:
    """``SELECT names`` of the points matching ``where(columns)``, ordered by start.

    Without ``as_of`` the current values; with it, the values known at that instant.
    """
    current = select(*[points.c[n] for n in names]).where(*where(points.c))
    if as_of is None:
        query: Any = current.order_by(points.c.timestamp)
    else:
        current = current.where(points.c.known_from <= as_of)
        h = point_history.c
        older = select(*[h[n] for n in names]).where(
            *where(h), h.known_from <= as_of, h.known_until > as_of
        )
        query = union_all(current, older)
        query = query.order_by(query.selected_columns.timestamp)
    return query.limit(limit) if limit is not None else query
