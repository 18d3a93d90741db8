"""Day, week, month, quarter and year points on the market's local calendar.

Every expected boundary here is a local date turned into that date's midnight with ``zoneinfo``
(``midnight(date(2024, 3, 31))``), plain date arithmetic, never the parser's own stepping.
"""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from _entsoe_samples import document_xml, period_xml, series_xml
from entsoe_client import MarketDocument, ParseError, TimeSeries, parse_document, step_end

BERLIN = ZoneInfo("Europe/Berlin")
LONDON = ZoneInfo("Europe/London")
UNKNOWN_AREA = (
    '<outBiddingZone_Domain.mRID codingScheme="A01">10YXX-NOT-KNOWN-X</outBiddingZone_Domain.mRID>'
)


def midnight(day: date, zone: ZoneInfo = BERLIN) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def month_starts(first: date, count: int, step: int = 1) -> list[date]:
    days = []
    for k in range(count + 1):
        index = first.month - 1 + k * step
        days.append(date(first.year + index // 12, index % 12 + 1, 1))
    return days


def parse(
    bounds: list[datetime],
    resolution: str,
    values: dict[int, float] | list[float] | None = None,
    *,
    curve_type: str = "A01",
    extra: str | None = None,
    value_tag: str = "quantity",
) -> MarketDocument:
    count = len(bounds) - 1
    period = period_xml(
        bounds[0],
        bounds[-1],
        resolution,
        values or [float(k) for k in range(1, count + 1)],
        value_tag,
    )
    kwargs = {} if extra is None else {"extra": extra}
    xml = document_xml(
        [series_xml([period], curve_type=curve_type, **kwargs)], start=bounds[0], end=bounds[-1]
    )
    document = parse_document(xml)
    assert isinstance(document, MarketDocument)
    return document


def only(document: MarketDocument) -> TimeSeries:
    (series,) = document.series
    return series


def intervals(series: TimeSeries) -> list[tuple[datetime, datetime]]:
    return [(p.start, p.end) for p in series.points]


def test_p1d_weeks_across_both_dst_switches() -> None:
    spring = [midnight(date(2024, 3, 25) + timedelta(days=k)) for k in range(8)]
    autumn = [midnight(date(2024, 10, 21) + timedelta(days=k)) for k in range(8)]
    for bounds, long_day in ((spring, 23), (autumn, 25)):
        series = only(parse(bounds, "P1D"))
        assert intervals(series) == list(pairwise(bounds))
        hours = [(p.end - p.start) // timedelta(hours=1) for p in series.points]
        assert sorted(set(hours)) == sorted({24, long_day})
        assert series.points[-1].end == bounds[-1]


def test_p1d_23_hour_day_ends_at_the_period_end() -> None:
    # 27 March 2016 in Brussels: 2016-03-26T23:00Z to 2016-03-27T22:00Z (23 hours).
    bounds = [midnight(date(2016, 3, 27), ZoneInfo("Europe/Brussels")), midnight(date(2016, 3, 28))]
    (point,) = only(parse(bounds, "P1D")).points
    assert (point.start, point.end) == (
        datetime(2016, 3, 26, 23, tzinfo=UTC),
        datetime(2016, 3, 27, 22, tzinfo=UTC),
    )


def test_p7d_year_of_monday_weeks() -> None:
    bounds = [midnight(date(2024, 1, 1) + timedelta(weeks=k)) for k in range(53)]
    series = only(parse(bounds, "P7D"))
    assert len(series.points) == 52
    assert intervals(series) == list(pairwise(bounds))
    assert all(p.start.astimezone(BERLIN).weekday() == 0 for p in series.points)
    lengths = {(p.end - p.start) // timedelta(hours=1) for p in series.points}
    assert lengths == {167, 168, 169}


def test_p1m_across_dst_months() -> None:
    bounds = [midnight(day) for day in month_starts(date(2024, 1, 1), 12)]
    series = only(parse(bounds, "P1M"))
    assert intervals(series) == list(pairwise(bounds))
    march = series.points[2]
    assert march.end - march.start == timedelta(days=31) - timedelta(hours=1)


def test_p3m_quarters() -> None:
    bounds = [midnight(day) for day in month_starts(date(2024, 1, 1), 4, step=3)]
    assert intervals(only(parse(bounds, "P3M"))) == list(pairwise(bounds))


def test_p1y_years() -> None:
    bounds = [midnight(date(year, 1, 1)) for year in (2023, 2024, 2025)]
    series = only(parse(bounds, "P1Y"))
    assert intervals(series) == list(pairwise(bounds))
    assert series.points[0].start == datetime(2022, 12, 31, 23, tzinfo=UTC)


def test_p2d_and_p2m_step_on_the_calendar_too() -> None:
    days = [midnight(date(2024, 3, 30) + timedelta(days=2 * k)) for k in range(3)]
    assert intervals(only(parse(days, "P2D"))) == list(pairwise(days))
    months = [midnight(day) for day in month_starts(date(2024, 2, 1), 3, step=2)]
    assert intervals(only(parse(months, "P2M"))) == list(pairwise(months))


def test_a03_omitted_last_positions_fill_a_167_hour_week() -> None:
    bounds = [midnight(date(2024, 3, 25) + timedelta(days=k)) for k in range(8)]
    assert bounds[-1] - bounds[0] == timedelta(hours=167)
    series = only(parse(bounds, "P1D", {1: 10.0, 5: 50.0}, curve_type="A03"))
    assert [p.value for p in series.points] == [10.0] * 4 + [50.0] * 3
    assert intervals(series) == list(pairwise(bounds))
    assert series.points[-1].end == bounds[-1]


def test_zone_from_midnights_when_the_area_is_unknown() -> None:
    # A GB day of the clock change: midnight GMT to midnight BST.
    bounds = [midnight(date(2024, 3, 30) + timedelta(days=k), LONDON) for k in range(3)]
    document = parse(bounds, "P1D", extra=UNKNOWN_AREA)
    assert intervals(only(document)) == list(pairwise(bounds))
    assert document.warnings == ()


def test_no_fitting_zone_steps_in_utc_and_warns() -> None:
    start = datetime(2024, 3, 30, 5, tzinfo=UTC)
    bounds = [start, start + timedelta(days=1), start + timedelta(days=2)]
    document = parse(bounds, "P1D", extra=UNKNOWN_AREA)
    assert intervals(only(document)) == list(pairwise(bounds))
    (warning,) = document.warnings
    assert "no local midnights" in warning
    assert "UTC" in warning


def test_quantity_and_price_are_both_kept() -> None:
    start = datetime(2024, 5, 1, 22, tzinfo=UTC)
    bounds = [start, start + timedelta(hours=1), start + timedelta(hours=2)]
    body = "".join(
        f"<Point><position>{k}</position><quantity>{q}</quantity>"
        f"<price.amount>{p}</price.amount></Point>"
        for k, q, p in ((1, 500, 3.25), (2, 450, 0.5))
    )
    period = (
        f"<Period><timeInterval><start>2024-05-01T22:00Z</start><end>2024-05-02T00:00Z</end>"
        f"</timeInterval><resolution>PT60M</resolution>{body}</Period>"
    )
    xml = document_xml(
        [series_xml([period], business_type="B05")],
        start=bounds[0],
        end=bounds[-1],
        document_type="A25",
        process_type=None,
    )
    document = parse_document(xml)
    assert isinstance(document, MarketDocument)
    assert [(p.value, p.price) for p in only(document).points] == [(500.0, 3.25), (450.0, 0.5)]


def test_a_price_only_point_keeps_the_price_as_value_and_price() -> None:
    bounds = [midnight(date(2024, 5, 2)), midnight(date(2024, 5, 3))]
    series = only(parse(bounds, "P1D", [42.5], value_tag="price.amount"))
    assert [(p.value, p.price) for p in series.points] == [(42.5, 42.5)]


def test_a_quantity_only_point_has_no_price() -> None:
    bounds = [midnight(date(2024, 5, 2)), midnight(date(2024, 5, 3))]
    assert only(parse(bounds, "P1D", [1.0])).points[0].price is None


@pytest.mark.parametrize("curve_type", ["A01", "A03"])
def test_a_position_beyond_the_period_is_dropped_and_reported(curve_type: str) -> None:
    bounds = [midnight(date(2024, 3, 25) + timedelta(days=k)) for k in range(8)]
    document = parse(bounds, "P1D", {1: 1.0, 7: 7.0, 8: 8.0, 9: 9.0}, curve_type=curve_type)
    series = only(document)
    assert series.points[-1].end == bounds[-1]
    assert all(p.end <= bounds[-1] for p in series.points)
    assert 8.0 not in [p.value for p in series.points]
    (warning,) = document.warnings
    assert "2 Point(s) at positions beyond the Period's last position 7 dropped" in warning
    assert "TimeSeries '1', Period 1" in warning


@pytest.mark.parametrize("resolution", ["P1DT2H", "P1Y6M", "PT0M", "P"])
def test_a_resolution_the_platform_does_not_use_is_a_parse_error(resolution: str) -> None:
    bounds = [midnight(date(2024, 5, 2)), midnight(date(2024, 5, 3))]
    with pytest.raises(ParseError, match=r"GL_MarketDocument 'doc-1': TimeSeries '1', Period 1"):
        parse(bounds, resolution, [1.0])


def test_a_period_of_no_whole_number_of_steps_is_a_parse_error() -> None:
    start = midnight(date(2024, 5, 2))
    with pytest.raises(ParseError) as caught:
        parse([start, start + timedelta(hours=30)], "P1D", [1.0])
    message = str(caught.value)
    assert "GL_MarketDocument 'doc-1'" in message
    assert "TimeSeries '1', Period 1 (2024-05-01T22:00Z/2024-05-03T04:00Z, P1D)" in message
    assert "no whole number of P1D steps" in message
    with pytest.raises(ParseError, match="no whole number of PT15M steps"):
        parse([start, start + timedelta(minutes=20)], "PT15M", [1.0])


@pytest.mark.parametrize(
    ("resolution", "start", "end"),
    [
        ("P1D", midnight(date(2024, 3, 31)), midnight(date(2024, 4, 1))),
        ("P1D", midnight(date(2024, 10, 27)), midnight(date(2024, 10, 28))),
        ("P7D", midnight(date(2024, 3, 25)), midnight(date(2024, 4, 1))),
        ("P1M", midnight(date(2024, 3, 1)), midnight(date(2024, 4, 1))),
        ("P3M", midnight(date(2024, 1, 1)), midnight(date(2024, 4, 1))),
        ("P1Y", midnight(date(2024, 1, 1)), midnight(date(2025, 1, 1))),
        ("PT15M", datetime(2024, 3, 31, 0, 45, tzinfo=UTC), datetime(2024, 3, 31, 1, tzinfo=UTC)),
    ],
)
def test_step_end_shared_with_the_service(resolution: str, start: datetime, end: datetime) -> None:
    assert step_end(start, resolution, BERLIN) == end
