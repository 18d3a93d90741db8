"""Capacities held for a year (installed capacity per type and per unit): one value per local
calendar year of the area, on generated edge cases and on a real recorded document."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from energy_data_service.container import Container
from energy_data_service.processors import process_documents
from energy_data_service.quality.capacity_years import (
    YearFinding,
    capacity_year_findings,
    holds_yearly_capacity,
    local_year_bounds,
)
from energy_data_service.quality.checks import Observation
from entsoe_client import MarketDocument, parse_response

BRUSSELS = ZoneInfo("Europe/Brussels")
SAMPLES = (
    Path(__file__).resolve().parents[4] / "testdata" / "entsoe-samples" / "EnergieID__entsoe-py"
)
Y2020 = datetime(2019, 12, 31, 23, tzinfo=UTC)  # local 2020-01-01 00:00 in Brussels
Y2021 = datetime(2020, 12, 31, 23, tzinfo=UTC)


def test_yearly_capacity_types_are_those_of_the_client_catalogue():
    assert holds_yearly_capacity("installed_capacity")
    assert holds_yearly_capacity("installed_capacity_per_unit")
    assert not holds_yearly_capacity("generation_per_type")
    assert not holds_yearly_capacity("net_transfer_capacity")  # held, but not for a year


def test_local_years_start_at_local_midnight():
    assert local_year_bounds(2020, BRUSSELS) == (Y2020, Y2021)


def test_one_p1y_point_per_year_passes():
    points = [Observation(Y2020, 634.0), Observation(Y2021, 640.0)]  # changes between years
    assert capacity_year_findings(points, BRUSSELS) == []


def test_the_local_year_decides_not_the_utc_one():
    """2019-12-31T23:00Z is 2020 in Brussels: with 2020's other value it is one year, not two."""
    points = [Observation(Y2020, 634.0), Observation(datetime(2020, 7, 1, tzinfo=UTC), 700.0)]
    assert capacity_year_findings(points, BRUSSELS) == [YearFinding(2020, (634.0, 700.0), 2)]
    assert capacity_year_findings(points, ZoneInfo("UTC")) == []  # UTC would split them


def test_sub_year_points_with_different_values_are_a_finding():
    months = [
        Observation(datetime(2020, m, 1, tzinfo=UTC), 600.0 + 10 * (m > 6)) for m in range(2, 13)
    ]
    [finding] = capacity_year_findings(months, BRUSSELS)
    assert (finding.year, finding.values, finding.points) == (2020, (600.0, 610.0), 11)
    assert finding.describe("BE/installed_capacity/A37/P1M psr_type=B01") == (
        "BE/installed_capacity/A37/P1M psr_type=B01: capacity not constant within 2020 "
        "(11 points, values 600, 610)"
    )


def test_held_sub_year_points_pass_and_nan_is_left_to_validity():
    held = [Observation(Y2020 + timedelta(days=d), 634.0) for d in range(0, 360, 30)]
    assert capacity_year_findings(held, BRUSSELS) == []
    assert capacity_year_findings([*held, Observation(Y2020, float("nan"))], BRUSSELS) == []


def test_two_points_of_one_year_that_disagree_each_year_named():
    points = [
        Observation(Y2020, 100.0),
        Observation(Y2020 + timedelta(days=40), 90.0),  # a unit commissioned mid-year
        Observation(Y2021, 120.0),
        Observation(Y2021 + timedelta(days=2), 120.0),
        Observation(datetime(2021, 12, 31, 23, tzinfo=UTC), 1.0),
        Observation(datetime(2022, 3, 1, tzinfo=UTC), 2.0),
    ]
    assert capacity_year_findings(points, BRUSSELS) == [
        YearFinding(2020, (90.0, 100.0), 2),
        YearFinding(2022, (1.0, 2.0), 2),
    ]


async def _import(container: Container, name: str) -> list:
    documents = [
        d for d in parse_response((SAMPLES / name).read_bytes()) if isinstance(d, MarketDocument)
    ]
    points = process_documents(documents, datetime(2020, 10, 18, 20, tzinfo=UTC))
    await container.points.upsert(points)
    return points


async def test_a_real_installed_capacity_document_passes(monitored: Container):
    """BE installed capacity per type and per unit for 2020 (entsoe-py's demo, real answers):
    one P1Y point per series and year (per unit: a P1Y Period of one day, 2020-10-16), no
    finding."""
    per_type = await _import(monitored, "query_installed_generation_capacity.xml")
    per_unit = await _import(monitored, "query_installed_generation_capacity_per_unit.xml")
    assert (len(per_type), len(per_unit)) == (12, 35)
    report = await monitored.quality_service.report(
        date(2020, 10, 16), ["BE"], ["installed_capacity", "installed_capacity_per_unit"]
    )
    assert len(report.series) == 12 + 35
    assert [s.findings for s in report.series] == [[]] * 47
    body = report.as_json()
    assert body["summary"]["findings"] == 0
    assert all(entry["findings"] == [] for entry in body["series"])


async def test_a_capacity_changing_within_its_year_is_reported_with_series_year_values(
    monitored: Container,
):
    """The recorded document plus a point later in 2020 with another value for nuclear (B14):
    that series alone is flagged, naming its production type, the year and both values."""
    per_type = await _import(monitored, "query_installed_generation_capacity.xml")
    [nuclear] = [p for p in per_type if p.psr_type == "B14"]
    later = nuclear._replace(
        timestamp=datetime(2020, 9, 30, 22, tzinfo=UTC), value=nuclear.value - 1000
    )
    await monitored.points.upsert([later])
    report = await monitored.quality_service.report(
        date(2020, 6, 15), ["BE"], ["installed_capacity"]
    )
    flagged = [s for s in report.series if s.findings]
    assert [s.identity.psr_type for s in flagged if s.identity] == ["B14"]
    [entry] = [e for e in report.as_json()["series"] if e["findings"]]
    [finding] = entry["findings"]
    assert (finding["rule"], finding["year"], finding["points"]) == (
        "capacity_constant_within_year",
        2020,
        2,
    )
    assert finding["values"] == [nuclear.value - 1000, nuclear.value]
    assert "psr_type=B14" in finding["message"]
    assert "within 2020" in finding["message"]
    assert report.as_json()["summary"]["findings"] == 1
    # The day after the year, 2021 has no points of its own: nothing to flag there.
    next_year = await monitored.quality_service.report(
        date(2021, 6, 15), ["BE"], ["installed_capacity"]
    )
    assert next_year.as_json()["summary"]["findings"] == 0
