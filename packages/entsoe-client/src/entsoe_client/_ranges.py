"""The range rule: which points belong to a time range.

A point covers ``[start, end)``. It belongs to the range ``[range_start, range_end)`` when the
two intervals overlap: ``start < range_end and end > range_start``. So a yearly point for 2024
belongs to a request for March 2024, a daily point to a window that starts at noon, and a point
that merely touches a range edge (ends where the range starts) does not. The client's fetches
and chunk clipping use this rule, and so do the energy data service's collection, coverage and
gap detection, so a coarse point straddling a window edge is never lost, nor asked for again.
"""

from __future__ import annotations

from datetime import datetime

from entsoe_client._models import Point


def overlaps(start: datetime, end: datetime, range_start: datetime, range_end: datetime) -> bool:
    """True when ``[start, end)`` and ``[range_start, range_end)`` share a moment."""
    return start < range_end and end > range_start


def point_in_range(point: Point, range_start: datetime, range_end: datetime) -> bool:
    """True when ``point`` belongs to ``[range_start, range_end)`` (its interval overlaps it)."""
    return point.start < range_end and point.end > range_start
