"""Timestamps and resolutions of platform documents, computed exactly and fast.

Fixed resolutions (PT1M, PT15M, PT30M, PT60M, PT1H, P1D, P7D, ...) step by a ``timedelta``
in UTC. Calendar resolutions (P1M, P3M, P1Y) step by calendar months from the Period start in
UTC: boundary ``k`` is the start shifted by ``k * months`` months, the day clamped to the month's
length, computed from the start each time (so 01-31 -> 02-28 -> 03-31, never drifting).
"""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import accumulate, repeat
from operator import add

from entsoe_client.exceptions import ParseError

_DURATION = re.compile(
    r"^P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)


@dataclass(frozen=True, slots=True)
class Resolution:
    """A Period resolution: either a fixed ``delta`` or a number of calendar ``months``."""

    text: str
    delta: timedelta | None
    months: int

    def boundaries(self, start: datetime, count: int) -> list[datetime]:
        """The ``count + 1`` boundaries ``[start, start + 1 step, ..., start + count steps]``."""
        if self.delta is not None:
            return list(accumulate(repeat(self.delta, count), add, initial=start))
        return [add_months(start, k * self.months) for k in range(count + 1)]

    def slots(self, start: datetime, end: datetime) -> int:
        """How many whole steps fit in ``[start, end)`` (the positions a Period has)."""
        if end <= start:
            return 0
        if self.delta is not None:
            return (end - start) // self.delta
        # Calendar months: estimate, then correct for day/time clamping.
        months = (end.year - start.year) * 12 + (end.month - start.month)
        k = max(months // self.months + 1, 0)
        while k > 0 and add_months(start, k * self.months) > end:
            k -= 1
        return k


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` shifted by whole calendar months, the day clamped to the target month."""
    if months == 0:
        return moment
    index = moment.month - 1 + months
    year = moment.year + index // 12
    month = index % 12 + 1
    day = min(moment.day, monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


@lru_cache(maxsize=64)
def parse_resolution(text: str) -> Resolution:
    """``"PT15M"`` -> 15 minutes; ``"P1M"`` -> 1 calendar month. ParseError when unreadable."""
    match = _DURATION.match(text.strip())
    if match is None or text.strip() in ("P", "PT"):
        raise ParseError(f"unreadable resolution {text!r} (expected an ISO 8601 duration)")
    parts = {key: int(value) for key, value in match.groupdict().items() if value}
    months = parts.get("years", 0) * 12 + parts.get("months", 0)
    fixed = timedelta(
        weeks=parts.get("weeks", 0),
        days=parts.get("days", 0),
        hours=parts.get("hours", 0),
        minutes=parts.get("minutes", 0),
        seconds=parts.get("seconds", 0),
    )
    if months and fixed:
        raise ParseError(f"resolution {text!r} mixes calendar months with a fixed duration")
    if not months and not fixed:
        raise ParseError(f"resolution {text!r} is zero")
    return Resolution(text.strip(), None if months else fixed, months)


@lru_cache(maxsize=4096)
def parse_timestamp(text: str) -> datetime:
    """A platform timestamp (``2023-08-15T22:00Z``, ``...T22:00:00Z``, ``...T22:00:00.000Z``,
    or with an offset) as an aware UTC datetime. Naive timestamps are taken as UTC."""
    value = text.strip()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ParseError(f"unreadable timestamp {text!r}") from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
