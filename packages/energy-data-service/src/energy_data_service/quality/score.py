"""One series, one local day: every check, and the 0–100 score that sums them up.

The score is a weighted mean of fractions in 0..1, each "how much of the day is fine":

====================  ======  ==================================================
component             weight  fraction
====================  ======  ==================================================
completeness           50     present / expected intervals
validity               20     1 − invalid / present
outliers               10     1 − outliers / present
flat lines             10     1 − points in flat lines / present
stability               5     1 − share of values published differently before
forecast accuracy       5     1 − MAPE / 100 (load forecasts with actuals only)
====================  ======  ==================================================

Components that do not apply (forecast accuracy without actuals, flat lines of types published
as values held for days) drop out and the weights of the rest are rescaled. A day with no
value at all scores 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from energy_data_service.quality.checks import (
    Observation,
    flat_line_points,
    forecast_mape,
    invalid_values,
    is_load_forecast,
    missing_intervals,
    revised_share,
    robust_outliers,
)
from energy_data_service.quality.days import expected_intervals
from energy_data_service.quality.settings import QualitySettings
from energy_data_service.quality.value_rules import flat_lines_checked, zero_runs_normal

WEIGHTS = {
    "completeness": 50.0,
    "validity": 20.0,
    "outliers": 10.0,
    "flat_lines": 10.0,
    "stability": 5.0,
    "forecast_accuracy": 5.0,
}


@dataclass(frozen=True)
class DayQuality:
    """Every figure of one series on one local day (what the report shows and the table keeps)."""

    day: date
    expected: int
    present: int
    invalid: int
    outliers: int
    flat_points: int
    revised_share: float
    forecast_mape: float | None
    score: float
    missing: list[datetime] = field(default_factory=list)
    outlier_times: list[datetime] = field(default_factory=list)

    @property
    def completeness(self) -> float:
        """Present share of the expected intervals, in percent."""
        return 100.0 * (self.expected - len(self.missing)) / self.expected if self.expected else 0.0


def assess_day(
    *,
    day: date,
    zone: ZoneInfo,
    data_type: str,
    resolution: str,
    points: Sequence[Observation],
    history: Mapping[datetime, float],
    actual_load: Sequence[Observation] | None,
    settings: QualitySettings,
    consumption: bool = False,
) -> DayQuality:
    """Run every check on ``points`` (the series' values inside local ``day``).

    ``history`` maps earlier UTC interval starts of the same series to values (the outlier
    reference); ``actual_load`` is the area's actual load for the day when ``data_type`` is a
    load forecast; ``consumption`` marks a generation document's consumption series (pumping),
    whose values may take any sign. The data type's rules (``value_rules``) decide which values
    are valid and whether flat lines (or only non-zero ones) count.
    """
    expected = expected_intervals(day, zone, resolution)
    missing = missing_intervals(expected, [p.timestamp for p in points], resolution, zone)
    values = [p.value for p in points]
    invalid = invalid_values(
        values, data_type, settings.price_min, settings.price_max, consumption=consumption
    )
    outlier_times = robust_outliers(
        points, history, zone, settings.outlier_weeks, settings.outlier_threshold
    )
    flat = (
        flat_line_points(
            points,
            resolution,
            zone,
            timedelta(hours=settings.flat_line_hours),
            ignore_zero=zero_runs_normal(data_type),
        )
        if flat_lines_checked(data_type)
        else 0
    )
    churn = revised_share(points)
    mape = (
        forecast_mape(points, resolution, actual_load, zone)
        if actual_load and is_load_forecast(data_type)
        else None
    )
    present = len(points)
    fractions: dict[str, float] = {}
    if present:
        fractions = {
            "completeness": (len(expected) - len(missing)) / len(expected),
            "validity": 1 - invalid / present,
            "outliers": 1 - len(outlier_times) / present,
            "flat_lines": 1 - flat / present,
            "stability": 1 - churn,
        }
        if not flat_lines_checked(data_type):
            del fractions["flat_lines"]  # held values are how the type is published
        if mape is not None:
            fractions["forecast_accuracy"] = max(0.0, 1 - mape / 100)
    return DayQuality(
        day=day,
        expected=len(expected),
        present=present,
        invalid=invalid,
        outliers=len(outlier_times),
        flat_points=flat,
        revised_share=churn,
        forecast_mape=mape,
        score=combine(fractions),
        missing=missing,
        outlier_times=outlier_times,
    )


def combine(fractions: Mapping[str, float]) -> float:
    """Weighted mean of the applicable fractions on a 0–100 scale, rounded to 0.1."""
    if not fractions:
        return 0.0
    total = sum(WEIGHTS[name] for name in fractions)
    return round(100.0 * sum(WEIGHTS[n] * f for n, f in fractions.items()) / total, 1)


def trend(score: float, previous: Sequence[float]) -> float | None:
    """Change against the mean of the previous days' scores; ``None`` without history."""
    if not previous:
        return None
    return round(score - sum(previous) / len(previous), 1)
