"""Day, week and year forecasts end to end, and a year of load under the platform's month limit.

The stand-in sends the coarse forecasts in the platform's shapes (week-ahead P1D minimum and
maximum per Monday week, month- and year-ahead P7D weeks, forecast margin P1Y) and refuses load
ranges over one month from their UTC start, as the platform does. Expected points are local
midnights computed here with ``zoneinfo`` and plain date arithmetic.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

from energy_data_service.cli import app
from entsoe_client.testing import FakePlatform, calendar_value_at, value_at
from typer.testing import CliRunner

runner = CliRunner()
BERLIN = ZoneInfo("Europe/Berlin")
COARSE = ("week_ahead_forecast", "month_ahead_forecast", "year_ahead_forecast", "forecast_margin")


def invoke(env: dict[str, str], *args: str) -> str:
    result = runner.invoke(app, list(args), env=env)
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=BERLIN).astimezone(UTC)


def test_collecting_coarse_forecasts_twice_asks_the_platform_once(
    cli_env: dict[str, str], fake_platform: FakePlatform
) -> None:
    kinds = [arg for kind in COARSE for arg in ("--data-type", kind)]
    invoke(cli_env, "collect", "--area", "DE_LU", *kinds)
    first = list(fake_platform.requests)
    assert {r.params["processType"] for r in first} == {"A31", "A32", "A33"}
    assert all(r.status == 200 for r in first)
    fake_platform.clear()
    output = invoke(cli_env, "collect", "--area", "DE_LU", *kinds)
    assert fake_platform.requests == [], [r.params for r in fake_platform.requests]
    assert output.count("complete") == len(COARSE)


def test_week_ahead_across_a_dst_switch_exports_the_platforms_points(
    cli_env: dict[str, str], fake_platform: FakePlatform, tmp_path: Path
) -> None:
    window = ("--start", "2024-03-27T00:00+01:00", "--end", "2024-04-03T00:00+02:00")
    common = ("--area", "DE_LU", "--data-type", "week_ahead_forecast", *window)
    invoke(cli_env, "collect", *common)
    target = tmp_path / "week.csv"
    invoke(cli_env, "export", *common, "--output", str(target))
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    got = sorted((r["business_type"], r["timestamp"], r["end"], float(r["value"])) for r in rows)
    start, end = midnight(date(2024, 3, 27)), midnight(date(2024, 4, 3))
    days = [midnight(date(2024, 3, 25) + timedelta(days=k)) for k in range(15)]
    expected = sorted(
        (kind, a.isoformat(), b.isoformat(), calendar_value_at(a, kind))
        for kind in ("A60", "A61")
        for a, b in pairwise(days)
        if a < end and b > start
    )
    assert got == expected
    assert ("A60", "2024-03-30T23:00:00+00:00", "2024-03-31T22:00:00+00:00") in {
        g[:3] for g in got
    }  # the 23-hour day


def test_a_year_of_load_under_the_month_limit_takes_at_most_13_requests(
    cli_env: dict[str, str], fake_platform: FakePlatform, tmp_path: Path
) -> None:
    window = ("--start", "2025-01-01T00:00+01:00", "--end", "2026-01-01T00:00+01:00")
    common = ("--area", "DE_LU", "--data-type", "actual_load", *window)
    for command in ("collect", "backfill"):
        fake_platform.clear()
        invoke(cli_env, command, *common)
        assert 12 <= len(fake_platform.requests) <= 13, command
        assert all(r.status == 200 for r in fake_platform.requests), command
    target = tmp_path / "load.csv"
    invoke(cli_env, "export", *common, "--output", str(target))
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    start = midnight(date(2025, 1, 1))
    hours = (midnight(date(2026, 1, 1)) - start) // timedelta(hours=1)
    assert [r["timestamp"] for r in rows] == [
        (start + timedelta(hours=k)).isoformat() for k in range(hours)
    ]
    assert all(float(r["value"]) == value_at(datetime.fromisoformat(r["timestamp"])) for r in rows)
