"""Timestamps and resolutions of platform documents, computed exactly and fast.

The platform's calendar: sub-day resolutions (PT15M, PT30M, PT60M, ...) are fixed steps in UTC.
Day, week, month, quarter and year resolutions (P1D, P7D, P1M, P3M, P1Y and any ``PnD``,
``PnW``, ``PnM``, ``PnY``) are steps of the wall clock of the market's time zone: a point starts
at a local midnight, so in UTC a day lasts 23, 24 or 25 hours, a week 167 to 169 hours and a
month 28 to 31 local days. Boundary ``k`` of a Period is always computed from the Period start
(``start`` on the local wall clock plus ``k`` steps, the day clamped to the month's length), so
01-31 -> 02-29 -> 03-31 never drifts.

This module is the one implementation of that rule: the parser, the chunk planner and the energy
data service all step through ``Resolution.boundaries`` / ``step_end``.
"""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from itertools import accumulate, repeat
from operator import add
from zoneinfo import ZoneInfo

from entsoe_client._exceptions import ParseError

_DURATION = re.compile(
    r"^P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)

MARKET_ZONES: tuple[str, ...] = (
    "Europe/Brussels",
    "Europe/London",
    "Europe/Helsinki",
    "Europe/Istanbul",
    "Europe/Moscow",
    "UTC",
)
"""Zones tried, in this order, after the area's own: the first in which a Period's start and end
are both local midnights is its market time zone."""


@dataclass(frozen=True, slots=True)
class Resolution:
    """A Period resolution: a fixed sub-day ``delta``, or local-calendar ``days`` or ``months``.

    Exactly one of the three is set. Calendar steps need the market's zone (``boundaries``);
    fixed steps ignore it.
    """

    text: str
    delta: timedelta | None
    months: int = 0
    days: int = 0

    @property
    def is_calendar(self) -> bool:
        """True for day and longer steps, which follow the local calendar."""
        return self.delta is None

    def boundary(self, start: datetime, k: int, zone: tzinfo = UTC) -> datetime:
        """The start of step ``k`` of a Period starting at ``start`` (aware UTC)."""
        if self.delta is not None:
            return start + self.delta * k
        local = start.astimezone(zone).replace(tzinfo=None)
        if self.months:
            moved = add_months(local, k * self.months)
        else:
            moved = local + timedelta(days=k * self.days)
        return moved.replace(tzinfo=zone).astimezone(UTC)

    def boundaries(self, start: datetime, count: int, zone: tzinfo = UTC) -> list[datetime]:
        """The ``count + 1`` boundaries ``[start, start + 1 step, ..., start + count steps]``."""
        if self.delta is not None:
            return list(accumulate(repeat(self.delta, count), add, initial=start))
        local = start.astimezone(zone).replace(tzinfo=None)
        if self.months:
            walls = [add_months(local, k * self.months) for k in range(count + 1)]
        else:
            day = timedelta(days=self.days)
            walls = list(accumulate(repeat(day, count), add, initial=local))
        return [wall.replace(tzinfo=zone).astimezone(UTC) for wall in walls]

    def slots(self, start: datetime, end: datetime, zone: tzinfo = UTC) -> int:
        """How many whole steps fit in ``[start, end)`` (the positions a Period has)."""
        if end <= start:
            return 0
        if self.delta is not None:
            return (end - start) // self.delta
        # Estimate from the length in days, then correct (DST and clamped days move it by one).
        if self.months:
            local_start = start.astimezone(zone)
            local_end = end.astimezone(zone)
            months = (local_end.year - local_start.year) * 12 + local_end.month - local_start.month
            k = max(months // self.months + 1, 0)
        else:
            k = (end - start) // timedelta(days=self.days) + 1
        while k > 0 and self.boundary(start, k, zone) > end:
            k -= 1
        return k

    def is_whole(self, start: datetime, end: datetime, zone: tzinfo = UTC) -> bool:
        """True when ``[start, end)`` is a whole number of steps."""
        return self.boundary(start, self.slots(start, end, zone), zone) == end


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` shifted by whole calendar months, the day clamped to the target month."""
    if months == 0:
        return moment
    index = moment.month - 1 + months
    year = moment.year + index // 12
    month = index % 12 + 1
    day = min(moment.day, monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def step_end(start: datetime, resolution: str, zone: tzinfo = UTC) -> datetime:
    """The end of the point that starts at ``start`` with ``resolution``, in ``zone``'s calendar."""
    return parse_resolution(resolution).boundary(start, 1, zone)


def is_local_midnight(moment: datetime, zone: tzinfo) -> bool:
    """True when ``moment`` is 00:00 on the wall clock of ``zone``."""
    local = moment.astimezone(zone)
    return local.hour == local.minute == local.second == local.microsecond == 0


@lru_cache(maxsize=16)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def market_zone(
    start: datetime, end: datetime | None, known: tzinfo | None = None
) -> tuple[tzinfo, bool]:
    """The zone whose calendar a Period of day or longer steps follows, and whether it fits.

    ``known`` (the zone of the document's area) comes first, then ``MARKET_ZONES``; the first
    zone in which ``start`` and ``end`` are both local midnights wins. When none fits, the
    answer is ``known`` (or UTC) with ``False``, so the caller can warn.
    """
    candidates: list[tzinfo] = [known] if known is not None else []
    candidates.extend(_zone(name) for name in MARKET_ZONES)
    for zone in candidates:
        if is_local_midnight(start, zone) and (end is None or is_local_midnight(end, zone)):
            return zone, True
    return (known if known is not None else UTC), False


@lru_cache(maxsize=64)
def parse_resolution(text: str) -> Resolution:
    """``"PT15M"`` -> 15 minutes; ``"P1D"`` -> 1 local day; ``"P1M"`` -> 1 calendar month.

    A ``ParseError`` for what the platform never sends: unreadable text, a zero step, or a
    duration mixing parts (``P1DT2H``, ``P1Y6M``).
    """
    cleaned = text.strip()
    match = _DURATION.match(cleaned)
    if match is None or cleaned in ("P", "PT") or cleaned.endswith("T"):
        raise ParseError(f"unreadable resolution {text!r} (expected an ISO 8601 duration)")
    parts = {key: int(value) for key, value in match.groupdict().items() if value is not None}
    if len(parts) != 1:
        raise ParseError(
            f"resolution {text!r} is not one the platform uses (PT15M, PT60M, P1D, P7D, P1M, "
            "P1Y, ...: one number and one unit)"
        )
    ((unit, amount),) = parts.items()
    if amount == 0:
        raise ParseError(f"resolution {text!r} is zero")
    if unit == "years":
        return Resolution(cleaned, None, months=12 * amount)
    if unit == "months":
        return Resolution(cleaned, None, months=amount)
    if unit in ("weeks", "days"):
        return Resolution(cleaned, None, days=amount * (7 if unit == "weeks" else 1))
    return Resolution(cleaned, timedelta(**{unit: amount}))


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
