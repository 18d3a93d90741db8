"""Quality checks on generated series with known defects: exact counts, DST days included."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from energy_data_service.quality.checks import (
    Observation,
    flat_line_points,
    forecast_mape,
    gap_ranges,
    invalid_values,
    revised_share,
    robust_outliers,
)
from energy_data_service.quality.days import expected_intervals, local_day_bounds
from energy_data_service.quality.score import assess_day, combine, trend
from energy_data_service.quality.settings import QualitySettings

BERLIN = ZoneInfo("Europe/Berlin")
QUARTER = timedelta(minutes=15)


def load_shape(t: datetime) -> float:
    """A smooth daily load curve in MW with a small week-to-week wobble (so MAD > 0)."""
    local = t.astimezone(BERLIN)
    hour = local.hour + local.minute / 60
    week = t.isocalendar().week
    return round(50_000 + 10_000 * math.sin(2 * math.pi * (hour - 6) / 24) + 150 * (week % 3), 3)


def day_series(day: date, value=load_shape, revised: bool = False) -> list[Observation]:
    start, end = local_day_bounds(day, BERLIN)
    points, t = [], start
    while t < end:
        points.append(Observation(t, value(t), revised))
        t += QUARTER
    return points


@pytest.mark.parametrize(
    ("day", "resolution", "count"),
    [
        (date(2025, 3, 30), "PT15M", 92),
        (date(2025, 10, 26), "PT15M", 100),
        (date(2025, 6, 10), "PT15M", 96),
        (date(2025, 3, 30), "PT60M", 23),
        (date(2025, 10, 26), "PT30M", 50),
        (date(2025, 10, 26), "P1D", 1),
    ],
)
def test_expected_intervals_follow_the_local_day(day, resolution, count):
    steps = expected_intervals(day, BERLIN, resolution)
    assert len(steps) == count
    assert steps[0] == local_day_bounds(day, BERLIN)[0]
    assert all(t.tzinfo is not None for t in steps)


def test_holes_on_the_long_dst_day_are_counted_exactly():
    day = date(2025, 10, 26)
    series = day_series(day)
    assert len(series) == 100
    holes = {3, 4, 5, 50, 99}
    kept = [p for i, p in enumerate(series) if i not in holes]
    quality = assess_day(
        day=day,
        zone=BERLIN,
        data_type="actual_load",
        resolution="PT15M",
        points=kept,
        history={},
        actual_load=None,
        settings=QualitySettings(),
    )
    assert (quality.expected, quality.present, len(quality.missing)) == (100, 95, 5)
    assert quality.completeness == 95.0
    assert gap_ranges(quality.missing, "PT15M", BERLIN) == [
        (series[3].timestamp, series[6].timestamp),
        (series[50].timestamp, series[51].timestamp),
        (series[99].timestamp, series[99].timestamp + QUARTER),
    ]
    # Only completeness is short: (50·0.95 + 20 + 10 + 10 + 5) / 95 → 97.4
    assert quality.score == 97.4


def test_short_dst_day_is_complete_with_92_quarter_hours():
    day = date(2025, 3, 30)
    quality = assess_day(
        day=day,
        zone=BERLIN,
        data_type="actual_load",
        resolution="PT15M",
        points=day_series(day),
        history={},
        actual_load=None,
        settings=QualitySettings(),
    )
    assert (quality.expected, quality.present, quality.missing) == (92, 92, [])
    assert quality.score == 100.0


def test_a_spike_is_found_against_the_same_hour_of_previous_weeks():
    day = date(2025, 6, 10)
    history = {
        p.timestamp: p.value
        for weeks_back in range(1, 5)
        for p in day_series(day - timedelta(weeks=weeks_back))
    }
    series = day_series(day)
    spike_at = series[40].timestamp
    spiked = [p._replace(value=p.value * 3) if p.timestamp == spike_at else p for p in series]
    found = robust_outliers(spiked, history, BERLIN, weeks=4, threshold=6.0)
    assert found == [spike_at]
    assert robust_outliers(series, history, BERLIN, weeks=4, threshold=6.0) == []
    # With fewer than three reference weeks nothing is judged.
    two_weeks = {t: v for t, v in history.items() if t >= spike_at - timedelta(weeks=2, hours=12)}
    assert robust_outliers(spiked, two_weeks, BERLIN, weeks=4, threshold=6.0) == []


def test_outlier_references_keep_local_hour_across_a_dst_switch():
    # 2025-04-01 is in summer time; three of its four reference weeks are in winter time.
    day = date(2025, 4, 1)
    history = {
        p.timestamp: p.value
        for weeks_back in range(1, 5)
        for p in day_series(day - timedelta(weeks=weeks_back))
    }
    assert robust_outliers(day_series(day), history, BERLIN, weeks=4, threshold=6.0) == []


def test_flat_lines_count_only_runs_long_enough_and_break_at_holes():
    day = date(2025, 6, 10)
    series = day_series(day)
    flat_value = 42_000.0
    # 20 identical quarter-hours (5 h) from index 10, 12 identical (3 h) from index 50.
    flat = [
        p._replace(value=flat_value) if 10 <= i < 30 or 50 <= i < 62 else p
        for i, p in enumerate(series)
    ]
    four_hours = timedelta(hours=4)
    assert flat_line_points(flat, "PT15M", BERLIN, four_hours) == 20
    # A hole in the middle of the 5 h run leaves two runs shorter than 4 h.
    holed = [p for i, p in enumerate(flat) if i != 20]
    assert flat_line_points(holed, "PT15M", BERLIN, four_hours) == 0
    assert flat_line_points(flat, "PT15M", BERLIN, timedelta(hours=3)) == 32


def test_value_checks_per_data_type():
    limits = QualitySettings()
    assert invalid_values([0.0, -5.0, 100.0, float("nan")], "actual_load", -500, 4000) == 3
    assert (
        invalid_values(
            [-500.0, 4000.0, 4000.01, -600.0, 55.0],
            "day_ahead_prices",
            limits.price_min,
            limits.price_max,
        )
        == 2
    )
    assert invalid_values([-1200.0, 300.0], "forecast_margin", -500, 4000) == 0


def test_revised_share_and_forecast_mape():
    day = date(2025, 6, 10)
    series = day_series(day)
    revised = [p._replace(revised=True) if i < 24 else p for i, p in enumerate(series)]
    assert revised_share(revised) == 0.25
    start = series[0].timestamp
    actual = [Observation(start + i * QUARTER, v) for i, v in enumerate([100, 120, 100, 120])]
    forecast = [Observation(start, 99.0)]  # hourly forecast vs mean actual 110
    assert forecast_mape(forecast, "PT60M", actual, BERLIN) == pytest.approx(10.0)
    assert forecast_mape(forecast, "PT60M", [], BERLIN) is None


def test_score_combines_every_defect_exactly():
    day = date(2025, 6, 10)
    series = day_series(day)
    points = [p for i, p in enumerate(series) if i not in range(6)]  # 6 holes
    points[0] = points[0]._replace(value=-1.0)  # 1 invalid
    points = [p._replace(revised=True) if i < 9 else p for i, p in enumerate(points)]
    quality = assess_day(
        day=day,
        zone=BERLIN,
        data_type="actual_load",
        resolution="PT15M",
        points=points,
        history={},
        actual_load=None,
        settings=QualitySettings(),
    )
    assert (quality.present, len(quality.missing), quality.invalid) == (90, 6, 1)
    assert quality.revised_share == 0.1
    # (50·90/96 + 20·89/90 + 10 + 10 + 5·0.9) / 95 = 0.9595… → 96.0
    assert quality.score == 96.0
    empty = assess_day(
        day=day,
        zone=BERLIN,
        data_type="actual_load",
        resolution="PT15M",
        points=[],
        history={},
        actual_load=None,
        settings=QualitySettings(),
    )
    assert (empty.score, empty.expected, len(empty.missing)) == (0.0, 96, 96)


def test_forecast_accuracy_joins_the_score_for_load_forecasts():
    day = date(2025, 6, 10)
    actual = day_series(day)
    forecast = [p._replace(value=p.value * 1.1) for p in actual]  # 10 % too high
    quality = assess_day(
        day=day,
        zone=BERLIN,
        data_type="day_ahead_forecast",
        resolution="PT15M",
        points=forecast,
        history={},
        actual_load=actual,
        settings=QualitySettings(),
    )
    assert quality.forecast_mape == pytest.approx(10.0)
    assert (
        quality.score
        == combine(
            {
                "completeness": 1,
                "validity": 1,
                "outliers": 1,
                "flat_lines": 1,
                "stability": 1,
                "forecast_accuracy": 0.9,
            }
        )
        == 99.5
    )


def test_trend_against_previous_days():
    assert trend(90.0, [80.0, 100.0, 70.0]) == 6.7
    assert trend(90.0, []) is None


def test_day_bounds_are_utc():
    start, end = local_day_bounds(date(2025, 10, 26), BERLIN)
    assert start == datetime(2025, 10, 25, 22, tzinfo=UTC)
    assert end - start == timedelta(hours=25)
