"""The individual checks on one series' points for one local day.

Each takes plain values and returns counts, so a test can assert exact numbers on a generated
series with known defects.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from energy_data_service.domain import FORECAST_TYPES, step_end
from energy_data_service.quality.value_rules import catalogue_value_rule

MAD_TO_SIGMA = 1.4826
"""Scales the median absolute deviation to a standard deviation for normally spread data."""


class Observation(NamedTuple):
    """One stored value as the checks see it."""

    timestamp: datetime
    value: float
    revised: bool = False
    """The point has had another value: ``point_history`` holds at least one (a revision, an
    in-place correction at the same revision number, or an older version that came late)."""


def missing_intervals(
    expected: Sequence[datetime], present: Sequence[datetime], resolution: str, zone: ZoneInfo
) -> list[datetime]:
    """Expected interval starts with no value.

    For series of a day or longer ``expected`` holds only the day's start, which counts as present
    when some value's interval covers it.
    """
    have = set(present)
    if len(expected) == 1 and step_end(expected[0], resolution, zone) - expected[0] >= timedelta(
        hours=23
    ):
        day_start = expected[0]
        covered = any(t <= day_start < step_end(t, resolution, zone) for t in have)
        return [] if covered else [day_start]
    return [t for t in expected if t not in have]


def invalid_values(
    values: Sequence[float],
    data_type: str,
    price_min: float,
    price_max: float,
    *,
    consumption: bool = False,
) -> int:
    """Values that cannot be right for the data type.

    Load (actual and forecast) must be positive; day-ahead prices must lie within the market's
    harmonised clearing-price limits; nothing may be NaN or infinite. A forecast margin may be
    negative (capacity short of load), so only finiteness is checked for it. The rest of the
    catalogue follows ``value_rules`` (no negative generation except consumption series, …).
    """
    bad = 0
    rule = catalogue_value_rule(data_type)
    for value in values:
        if not math.isfinite(value):
            bad += 1
        elif data_type == "day_ahead_prices":
            bad += not (price_min <= value <= price_max)
        elif rule is not None:
            bad += not rule(value, consumption)
        elif data_type != "forecast_margin":
            bad += value <= 0
    return bad


def robust_outliers(
    points: Sequence[Observation],
    history: Mapping[datetime, float],
    zone: ZoneInfo,
    weeks: int,
    threshold: float,
) -> list[datetime]:
    """Values far from the same local hour and weekday of the previous ``weeks`` weeks.

    Distance is measured in scaled MADs around the median of those references (robust: one old
    spike does not hide a new one). A value needs at least three references to be judged. When
    the references agree exactly (MAD 0), one percent of the median's size is the yardstick.
    """
    outliers = []
    for point in points:
        local = point.timestamp.astimezone(zone).replace(tzinfo=None)
        references = []
        for week in range(1, weeks + 1):
            then = (local - timedelta(weeks=week)).replace(tzinfo=zone).astimezone(UTC)
            if then in history:
                references.append(history[then])
        if len(references) < 3:
            continue
        median = statistics.median(references)
        mad = statistics.median(abs(r - median) for r in references)
        scale = max(MAD_TO_SIGMA * mad, 0.01 * abs(median), 1e-9)
        if abs(point.value - median) / scale > threshold:
            outliers.append(point.timestamp)
    return outliers


def flat_line_points(
    points: Sequence[Observation],
    resolution: str,
    zone: ZoneInfo,
    min_duration: timedelta,
    *,
    ignore_zero: bool = False,
) -> int:
    """Points inside runs of identical consecutive values lasting at least ``min_duration``.

    A run breaks at a changed value and at a hole (a missing interval is not "the same value").
    With ``ignore_zero`` runs of zeros do not count (solar at night, a border flowing the other
    way).
    """
    flagged = 0
    run = 0
    run_start: datetime | None = None
    previous: Observation | None = None
    ordered = sorted(points)
    for point in ordered:
        continues = (
            previous is not None
            and point.value == previous.value
            and step_end(previous.timestamp, resolution, zone) == point.timestamp
        )
        if continues:
            run += 1
        else:
            if not (ignore_zero and previous is not None and previous.value == 0):
                flagged += _flat(run, run_start, previous, resolution, zone, min_duration)
            run, run_start = 1, point.timestamp
        previous = point
    if not (ignore_zero and previous is not None and previous.value == 0):
        flagged += _flat(run, run_start, previous, resolution, zone, min_duration)
    return flagged


def _flat(
    run: int,
    run_start: datetime | None,
    last: Observation | None,
    resolution: str,
    zone: ZoneInfo,
    min_duration: timedelta,
) -> int:
    if run < 2 or run_start is None or last is None:
        return 0
    duration = step_end(last.timestamp, resolution, zone) - run_start
    return run if duration >= min_duration else 0


def revised_share(points: Sequence[Observation]) -> float:
    """Share of values the platform has published differently before (``revised``).

    Counted from the stored history, not from revision numbers: the platform corrects most
    values in place without raising ``revisionNumber``, and a higher revision that repeats a
    value changed nothing.
    """
    if not points:
        return 0.0
    return sum(p.revised for p in points) / len(points)


def forecast_mape(
    forecast: Sequence[Observation],
    resolution: str,
    actual: Sequence[Observation],
    zone: ZoneInfo,
) -> float | None:
    """Mean absolute percentage error of a load forecast against the actual load, in percent.

    Each forecast interval is compared with the mean of the actual values inside it, so an
    hourly forecast is judged against quarter-hourly actuals. ``None`` when nothing overlaps.
    """
    ordered_actual = sorted(actual)
    errors = []
    index = 0
    for point in sorted(forecast):
        end = step_end(point.timestamp, resolution, zone)
        while index < len(ordered_actual) and ordered_actual[index].timestamp < point.timestamp:
            index += 1
        inside = []
        probe = index
        while probe < len(ordered_actual) and ordered_actual[probe].timestamp < end:
            inside.append(ordered_actual[probe].value)
            probe += 1
        if inside:
            reference = statistics.fmean(inside)
            if reference != 0:
                errors.append(abs(point.value - reference) / abs(reference))
    if not errors:
        return None
    return 100.0 * statistics.fmean(errors)


def is_load_forecast(data_type: str) -> bool:
    """Forecasts of load that can be compared with ``actual_load`` (not the capacity margin)."""
    return data_type in FORECAST_TYPES and data_type != "forecast_margin"


def gap_ranges(
    missing: Sequence[datetime], resolution: str, zone: ZoneInfo
) -> list[tuple[datetime, datetime]]:
    """Missing intervals merged into ``[start, end)`` ranges, the unit a re-fetch asks for."""
    ranges: list[tuple[datetime, datetime]] = []
    for start in sorted(missing):
        end = step_end(start, resolution, zone)
        if ranges and ranges[-1][1] == start:
            ranges[-1] = (ranges[-1][0], end)
        else:
            ranges.append((start, end))
    return ranges
