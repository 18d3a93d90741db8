"""Capacities held for a year: one value per local calendar year of the area.

The platform publishes installed capacity per production type (A68) and per unit (A71) as
year-ahead documents (process A33) with one P1Y point per year; the year starts at local
midnight of 1 January in the market's time zone (2019-12-31T23:00Z for Brussels time), and a
unit commissioned during the year has a one-day P1Y Period starting that day. Within one local
year a series therefore holds one value. Points of one year with different values (sub-year
points, or two points of one year that disagree) mean the store mixes documents that contradict
each other, or a feed that is not what the type promises: ``capacity_year_findings`` names the
year and the values seen. Several points of one year with the same value pass (held values).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from energy_data_service.quality.checks import Observation

YEARLY_CAPACITY_TYPES = frozenset({"installed_capacity", "installed_capacity_per_unit"})
"""Catalogue types held for a year (client catalogue: A68 and A71, process A33, P1Y)."""

RULE = "capacity_constant_within_year"


@dataclass(frozen=True)
class YearFinding:
    """One local year of one series whose points do not hold one value."""

    year: int
    values: tuple[float, ...]
    """The distinct values seen in the year, ascending."""
    points: int
    """How many points the year holds."""
    rule: str = RULE

    def as_json(self) -> dict[str, Any]:
        """The finding as the report lists it."""
        return {
            "rule": self.rule,
            "year": self.year,
            "values": list(self.values),
            "points": self.points,
        }

    def describe(self, series: str) -> str:
        """One line naming the series, the year and the values."""
        seen = ", ".join(f"{v:g}" for v in self.values)
        return (
            f"{series}: capacity not constant within {self.year} "
            f"({self.points} points, values {seen})"
        )


def holds_yearly_capacity(data_type: str) -> bool:
    """True for the catalogue types whose value holds for a whole local year."""
    return data_type in YEARLY_CAPACITY_TYPES


def local_year_bounds(year: int, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """UTC start and end of local calendar ``year`` in ``zone``."""
    start = datetime.combine(date(year, 1, 1), time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(date(year + 1, 1, 1), time(0), tzinfo=zone).astimezone(UTC)
    return start, end


def capacity_year_findings(points: Sequence[Observation], zone: ZoneInfo) -> list[YearFinding]:
    """Local years of ``zone`` in which ``points`` (one series) take more than one value.

    A point belongs to the local year its interval starts in. Values that are not finite are
    left to the validity check (NaN never equals itself and would flag every year).
    """
    by_year: dict[int, list[float]] = defaultdict(list)
    for point in points:
        by_year[point.timestamp.astimezone(zone).year].append(point.value)
    findings = []
    for year, values in sorted(by_year.items()):
        distinct = sorted({v for v in values if math.isfinite(v)})
        if len(distinct) > 1:
            findings.append(YearFinding(year, tuple(distinct), len(values)))
    return findings
