"""Which parts of a time window the stored points cover, and where the holes are.

Each stored point covers ``[timestamp, timestamp + its own resolution)``; the union over all
series of an area × data type is what we have. A window minus that union is the list of holes.
Because every interval is computed in UTC from the point's own resolution (days and longer on
the area's local calendar), DST days need no special case: a 23-hour day simply has 92
quarter-hours to cover, a 25-hour day 100. A 60-minute series that stopped when the 15-minute
one began (SDAC, 2025-10-01) leaves no false hole either.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from energy_data_service.domain import FIXED_STEPS, step_end

Interval = tuple[datetime, datetime]


def covered(present: Iterable[tuple[datetime, str]], zone: ZoneInfo) -> list[Interval]:
    """Merged, sorted intervals covered by ``(interval start, resolution)`` pairs."""
    fixed = FIXED_STEPS.get
    spans = sorted(
        (start, start + step if (step := fixed(resolution)) else step_end(start, resolution, zone))
        for start, resolution in present
    )
    merged: list[Interval] = []
    if not spans:
        return merged
    first, last = spans[0]
    for start, end in spans:  # one open interval in locals instead of rewriting the list
        if start <= last:
            if end > last:
                last = end
        else:
            merged.append((first, last))
            first, last = start, end
    merged.append((first, last))
    return merged


def holes(
    present: Iterable[tuple[datetime, str]], start: datetime, end: datetime, zone: ZoneInfo
) -> list[Interval]:
    """The parts of ``[start, end)`` no stored point covers, in time order."""
    found: list[Interval] = []
    cursor = start
    for span_start, span_end in covered(present, zone):
        if span_end <= cursor:
            continue
        if span_start >= end:
            break
        if span_start > cursor:
            found.append((cursor, span_start))
        cursor = max(cursor, span_end)
    if cursor < end:
        found.append((cursor, end))
    return found


def fraction_covered(holes_found: Iterable[Interval], start: datetime, end: datetime) -> float:
    """Share of ``[start, end)`` not in a hole (1.0 for an empty window)."""
    total = (end - start).total_seconds()
    if total <= 0:
        return 1.0
    missing = sum((b - a).total_seconds() for a, b in holes_found)
    return max(0.0, 1.0 - missing / total)


def merge_ranges(
    ranges: Iterable[Interval], join_within: timedelta = timedelta(0)
) -> list[Interval]:
    """Sorted union of ``ranges``; ranges closer than ``join_within`` become one fetch."""
    merged: list[Interval] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1] + join_within:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
