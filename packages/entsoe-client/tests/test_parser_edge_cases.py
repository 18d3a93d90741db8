"""Generated documents for what the recorded samples don't cover: DST days, calendar
resolutions, several Periods, namespaces, ZIP answers, malformed input, quirks."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
import zipfile
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from _entsoe_samples import (
    PUBLICATION_NS_70,
    PUBLICATION_NS_73,
    acknowledgement_xml,
    document_xml,
    load_document,
    period_xml,
    series_xml,
)
from entsoe_client import (
    Acknowledgement,
    MarketDocument,
    ParseError,
    TimeSeries,
    parse_document,
    parse_response,
)

BERLIN = ZoneInfo("Europe/Berlin")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def only_series(data: bytes) -> TimeSeries:
    document = parse_document(data)
    assert isinstance(document, MarketDocument)
    (series,) = document.series
    return series


def local_day(day: datetime) -> tuple[datetime, datetime]:
    """The UTC bounds of a Europe/Berlin local day."""
    start = day.replace(tzinfo=BERLIN)
    end = (day + timedelta(days=1)).replace(tzinfo=BERLIN)
    return start.astimezone(UTC), end.astimezone(UTC)


# --------------------------------------------------------------------------------------------
# DST days


@pytest.mark.parametrize(
    ("day", "quarters"),
    [(datetime(2024, 3, 31), 92), (datetime(2024, 10, 27), 100), (datetime(2024, 6, 1), 96)],
)
def test_dst_days_have_92_or_100_quarter_hours(day: datetime, quarters: int) -> None:
    start, end = local_day(day)
    series = only_series(load_document(start, end, [float(i) for i in range(quarters)]))
    assert len(series.points) == quarters
    assert series.points[0].start == start
    assert series.points[-1].end == end
    assert all(a.end == b.start for a, b in zip(series.points, series.points[1:], strict=False))
    assert all(p.end - p.start == timedelta(minutes=15) for p in series.points)
    assert [p.position for p in series.points] == list(range(1, quarters + 1))
    local_starts = [p.start.astimezone(BERLIN) for p in series.points]
    assert local_starts[0].hour == 0
    assert series.points[-1].end.astimezone(BERLIN).hour == 0


def test_spring_day_skips_the_local_hour_2_to_3() -> None:
    start, end = local_day(datetime(2024, 3, 31))
    assert (start, end) == (utc(2024, 3, 30, 23), utc(2024, 3, 31, 22))
    series = only_series(load_document(start, end, [1.0] * 92))
    local_hours = {p.start.astimezone(BERLIN).hour for p in series.points}
    assert 2 not in local_hours
    assert len(local_hours) == 23


def test_autumn_day_repeats_the_local_hour_2_to_3() -> None:
    start, end = local_day(datetime(2024, 10, 27))
    assert (start, end) == (utc(2024, 10, 26, 22), utc(2024, 10, 27, 23))
    series = only_series(load_document(start, end, [1.0] * 100))
    two_oclock = [p for p in series.points if p.start.astimezone(BERLIN).hour == 2]
    assert len(two_oclock) == 8  # 02:00-03:00 CEST, then 02:00-03:00 CET


@pytest.mark.parametrize(
    ("day", "quarters"), [(datetime(2024, 3, 31), 92), (datetime(2024, 10, 27), 100)]
)
def test_a03_on_dst_days_fills_to_the_period_end(day: datetime, quarters: int) -> None:
    start, end = local_day(day)
    period = period_xml(start, end, "PT15M", {1: 10.0, 50: 20.0})
    data = document_xml([series_xml([period], curve_type="A03")], start=start, end=end)
    series = only_series(data)
    assert [p.value for p in series.points] == [10.0] * 49 + [20.0] * (quarters - 49)
    assert series.points[-1].end == end


# --------------------------------------------------------------------------------------------
# A03 and A01 position quirks


def test_a03_omitted_trailing_positions_are_filled_to_the_period_end() -> None:
    start, end = utc(2024, 1, 1), utc(2024, 1, 2)
    period = period_xml(start, end, "PT60M", {1: 5.0, 2: 6.0, 10: 7.5})
    series = only_series(
        document_xml([series_xml([period], curve_type="A03")], start=start, end=end)
    )
    assert [p.value for p in series.points] == [5.0] + [6.0] * 8 + [7.5] * 15
    assert [p.position for p in series.points] == list(range(1, 25))
    assert series.points[-1].start == utc(2024, 1, 1, 23)
    assert series.points[-1].end == end


def test_a03_complete_period_is_unchanged() -> None:
    start, end = utc(2024, 1, 1), utc(2024, 1, 1, 4)
    period = period_xml(start, end, "PT60M", [1.0, 2.0, 3.0, 4.0])
    series = only_series(
        document_xml([series_xml([period], curve_type="A03")], start=start, end=end)
    )
    assert [p.value for p in series.points] == [1.0, 2.0, 3.0, 4.0]


def test_a01_with_skipped_positions_gives_only_the_points_present() -> None:
    """A01 promises every position; when the platform still skips some, nothing is invented."""
    start, end = utc(2024, 1, 1), utc(2024, 1, 2)
    period = period_xml(start, end, "PT60M", {1: 1.0, 2: 2.0, 5: 5.0, 24: 24.0})
    series = only_series(document_xml([series_xml([period])], start=start, end=end))
    assert [(p.position, p.value) for p in series.points] == [
        (1, 1.0),
        (2, 2.0),
        (5, 5.0),
        (24, 24.0),
    ]
    assert series.points[2].start == utc(2024, 1, 1, 4)
    assert series.points[2].end == utc(2024, 1, 1, 5)
    assert series.points[3].end == end


def test_missing_curve_type_means_a01() -> None:
    start, end = utc(2024, 1, 1), utc(2024, 1, 1, 3)
    period = period_xml(start, end, "PT60M", {1: 1.0, 3: 3.0})
    series = only_series(
        document_xml([series_xml([period], curve_type=None)], start=start, end=end)
    )
    assert series.curve_type == "A01"
    assert [p.position for p in series.points] == [1, 3]


def test_positions_out_of_order_are_sorted_and_a_repeated_position_keeps_its_last_value() -> None:
    start, end = utc(2024, 1, 1), utc(2024, 1, 1, 4)
    body = "".join(
        f"<Point><position>{p}</position><quantity>{v}</quantity></Point>"
        for p, v in [(3, 30), (1, 10), (2, 20), (4, 40), (2, 21)]
    )
    period = (
        f"<Period><timeInterval><start>2024-01-01T00:00Z</start><end>2024-01-01T04:00Z</end>"
        f"</timeInterval><resolution>PT60M</resolution>{body}</Period>"
    )
    series = only_series(document_xml([series_xml([period])], start=start, end=end))
    assert [(p.position, p.value) for p in series.points] == [
        (1, 10.0),
        (2, 21.0),
        (3, 30.0),
        (4, 40.0),
    ]


def test_point_without_a_value_is_skipped() -> None:
    start, end = utc(2024, 1, 1), utc(2024, 1, 1, 3)
    period = (
        "<Period><timeInterval><start>2024-01-01T00:00Z</start><end>2024-01-01T03:00Z</end>"
        "</timeInterval><resolution>PT60M</resolution>"
        "<Point><position>1</position><quantity>1</quantity></Point>"
        "<Point><position>2</position><quantity/></Point>"
        "<Point><position>3</position><quantity>3</quantity></Point></Period>"
    )
    series = only_series(document_xml([series_xml([period])], start=start, end=end))
    assert [(p.position, p.value) for p in series.points] == [(1, 1.0), (3, 3.0)]


def test_non_numeric_value_is_a_parse_error_naming_the_series() -> None:
    start, end = utc(2024, 1, 1), utc(2024, 1, 1, 2)
    period = period_xml(start, end, "PT60M", [1.0, 2.0]).replace("2.0", "n/a")
    with pytest.raises(ParseError, match=r"TimeSeries 'x7'.*'n/a' is not a number"):
        parse_document(document_xml([series_xml([period], mrid="x7")], start=start, end=end))


def test_values_keep_the_platforms_decimal_text() -> None:
    start, end = utc(2024, 1, 1), utc(2024, 1, 1, 3)
    period = period_xml(start, end, "PT60M", [0.1, -12.34, 1e-05], value_tag="price.amount")
    data = document_xml(
        [series_xml([period])],
        start=start,
        end=end,
        root="Publication_MarketDocument",
        namespace=PUBLICATION_NS_73,
        document_type="A44",
    )
    series = only_series(data)
    assert [repr(p.value) for p in series.points] == ["0.1", "-12.34", "1e-05"]


# --------------------------------------------------------------------------------------------
# Several series, several Periods, resolutions


def test_response_with_pt60m_and_pt15m_series() -> None:
    start, end = utc(2025, 9, 30, 22), utc(2025, 10, 1, 22)
    hourly = series_xml([period_xml(start, end, "PT60M", [1.0] * 24)], mrid="1")
    quarter = series_xml([period_xml(start, end, "PT15M", [2.0] * 96)], mrid="2")
    document = parse_document(document_xml([hourly, quarter], start=start, end=end))
    assert isinstance(document, MarketDocument)
    assert [(s.mrid, s.resolution, len(s.points)) for s in document.series] == [
        ("1", "PT60M", 24),
        ("2", "PT15M", 96),
    ]
    assert document.series[0].points[-1].end == document.series[1].points[-1].end == end


def test_several_periods_in_one_series_are_concatenated_in_time_order() -> None:
    day1, day2, day3 = utc(2024, 1, 1), utc(2024, 1, 2), utc(2024, 1, 3)
    later = period_xml(day2, day3, "PT60M", [2.0] * 24)
    earlier = period_xml(day1, day2, "PT60M", [1.0] * 24)
    series = only_series(document_xml([series_xml([later, earlier])], start=day1, end=day3))
    assert len(series.points) == 48
    assert [p.value for p in series.points] == [1.0] * 24 + [2.0] * 24
    assert all(a.end == b.start for a, b in zip(series.points, series.points[1:], strict=False))
    assert series.resolutions == ("PT60M",)


def test_a_series_mixing_resolutions_is_one_series_per_resolution() -> None:
    day1, noon, day2 = utc(2024, 1, 1), utc(2024, 1, 1, 12), utc(2024, 1, 2)
    periods = [
        period_xml(day1, noon, "PT60M", [1.0] * 12),
        period_xml(noon, day2, "PT15M", [2.0] * 48),
    ]
    document = parse_document(document_xml([series_xml(periods)], start=day1, end=day2))
    assert isinstance(document, MarketDocument)
    hours, quarters = document.series
    assert (hours.resolution, quarters.resolution) == ("PT60M", "PT15M")
    assert (hours.resolutions, quarters.resolutions) == (("PT60M",), ("PT15M",))
    assert (len(hours.points), len(quarters.points)) == (12, 48)
    assert quarters.points[0].start == noon
    assert quarters.points[0].end == noon + timedelta(minutes=15)
    assert hours.points[-1].end == noon


@pytest.mark.parametrize(
    ("resolution", "start", "end", "bounds"),
    [
        (
            "P1M",
            utc(2024, 1, 31),
            utc(2024, 5, 31),
            # from the start each time, the day clamped: Feb 29 then back to Mar 31
            [
                utc(2024, 1, 31),
                utc(2024, 2, 29),
                utc(2024, 3, 31),
                utc(2024, 4, 30),
                utc(2024, 5, 31),
            ],
        ),
        (
            "P1M",
            utc(2023, 12, 31, 23),
            utc(2024, 3, 31, 22),
            # months of the German calendar: April starts at midnight CEST, 22:00Z
            [
                utc(2023, 12, 31, 23),
                utc(2024, 1, 31, 23),
                utc(2024, 2, 29, 23),
                utc(2024, 3, 31, 22),
            ],
        ),
        (
            "P3M",
            utc(2023, 12, 31, 23),
            utc(2024, 12, 31, 23),
            [
                utc(2023, 12, 31, 23),
                utc(2024, 3, 31, 22),
                utc(2024, 6, 30, 22),
                utc(2024, 9, 30, 22),
                utc(2024, 12, 31, 23),
            ],
        ),
        (
            "P1Y",
            utc(2020, 2, 29),
            utc(2024, 2, 29),
            [
                utc(2020, 2, 29),
                utc(2021, 2, 28),
                utc(2022, 2, 28),
                utc(2023, 2, 28),
                utc(2024, 2, 29),
            ],
        ),
        (
            "P7D",
            utc(2024, 3, 17, 23),
            utc(2024, 4, 7, 22),
            # local Monday weeks: the one across 2024-03-31 lasts 167 hours
            [utc(2024, 3, 17, 23), utc(2024, 3, 24, 23), utc(2024, 3, 31, 22), utc(2024, 4, 7, 22)],
        ),
        (
            "P1D",
            utc(2024, 3, 30, 23),
            utc(2024, 4, 1, 22),
            # local days: 2024-03-31 lasts 23 hours
            [utc(2024, 3, 30, 23), utc(2024, 3, 31, 22), utc(2024, 4, 1, 22)],
        ),
        (
            "PT30M",
            utc(2024, 1, 1),
            utc(2024, 1, 1, 1, 30),
            [utc(2024, 1, 1, 0, m) for m in (0, 30)] + [utc(2024, 1, 1, 1), utc(2024, 1, 1, 1, 30)],
        ),
        ("PT1H", utc(2024, 1, 1), utc(2024, 1, 1, 2), [utc(2024, 1, 1, h) for h in range(3)]),
    ],
)
def test_resolutions(
    resolution: str, start: datetime, end: datetime, bounds: list[datetime]
) -> None:
    count = len(bounds) - 1
    for curve in ("A01", "A03"):
        values = {1: 1.0} if curve == "A03" else [1.0] * count
        period = period_xml(start, end, resolution, values)
        series = only_series(
            document_xml([series_xml([period], curve_type=curve)], start=start, end=end)
        )
        assert [(p.start, p.end) for p in series.points] == list(pairwise(bounds)), curve
        assert series.resolution == resolution


def test_unreadable_resolution_is_a_parse_error() -> None:
    start, end = utc(2024, 1, 1), utc(2024, 1, 2)
    period = period_xml(start, end, "every hour", [1.0])
    with pytest.raises(ParseError, match="unreadable resolution 'every hour'"):
        parse_document(document_xml([series_xml([period])], start=start, end=end))


def test_timestamp_variants() -> None:
    period = (
        "<Period><timeInterval><start>2024-01-01T00:00:00.000Z</start>"
        "<end>2024-01-01T03:00:00+01:00</end></timeInterval><resolution>PT60M</resolution>"
        "<Point><position>1</position><quantity>1</quantity></Point>"
        "<Point><position>2</position><quantity>2</quantity></Point></Period>"
    )
    series = only_series(
        document_xml(
            [series_xml([period], curve_type="A03")], start=utc(2024, 1, 1), end=utc(2024, 1, 2)
        )
    )
    # the end is 02:00Z: two hours, the second filled to the end
    assert [(p.start, p.value) for p in series.points] == [
        (utc(2024, 1, 1, 0), 1.0),
        (utc(2024, 1, 1, 1), 2.0),
    ]


def test_flattened_time_interval_elements() -> None:
    """Some real answers write ``timeInterval.start`` instead of ``timeInterval/start``."""
    data = (
        b'<GL_MarketDocument xmlns="urn:iec62325.351:tc57wg16:451-6:generationloaddocument:3:0">'
        b"<mRID>m</mRID><type>A71</type>"
        b"<time_Period.timeInterval.start>2022-12-31T23:00:00Z</time_Period.timeInterval.start>"
        b"<time_Period.timeInterval.end>2023-12-31T23:00:00Z</time_Period.timeInterval.end>"
        b"<TimeSeries><mRID>1</mRID><curveType>A03</curveType><Period>"
        b"<timeInterval.start>2022-12-31T23:00:00Z</timeInterval.start>"
        b"<timeInterval.end>2023-12-31T23:00:00Z</timeInterval.end><resolution>P1Y</resolution>"
        b"<Point><position>1</position><quantity>120.3</quantity></Point></Period></TimeSeries>"
        b"</GL_MarketDocument>"
    )
    document = parse_document(data)
    assert isinstance(document, MarketDocument)
    assert document.revision_number == 1  # absent: the platform's first revision
    assert document.period_start == utc(2022, 12, 31, 23)
    assert document.period_end == utc(2023, 12, 31, 23)
    (point,) = document.series[0].points
    assert (point.start, point.end, point.value) == (
        utc(2022, 12, 31, 23),
        utc(2023, 12, 31, 23),
        120.3,
    )


# --------------------------------------------------------------------------------------------
# Document metadata and namespaces


@pytest.mark.parametrize("revision", [1, 2, 17])
def test_revision_numbers(revision: int) -> None:
    start, end = utc(2024, 1, 1), utc(2024, 1, 1, 1)
    document = parse_document(load_document(start, end, [1.0] * 4, revision=revision))
    assert isinstance(document, MarketDocument)
    assert document.revision_number == revision


def test_document_metadata() -> None:
    start, end = utc(2024, 1, 1), utc(2024, 1, 1, 1)
    document = parse_document(load_document(start, end, [1.0] * 4, mrid="abc"))
    assert isinstance(document, MarketDocument)
    assert document.mrid == "abc"
    assert document.document_type == "A65"
    assert document.process_type == "A16"
    assert document.created_at == utc(2024, 11, 1, 10)
    assert (document.period_start, document.period_end) == (start, end)
    assert document.root_element == "GL_MarketDocument"
    series = document.series[0]
    assert series.bidding_zone == series.out_domain == "10Y1001A1001A82H"
    assert series.in_domain is None
    assert series.unit == "MAW"
    assert series.business_type == "A04"
    assert series.object_aggregation == "A01"


@pytest.mark.parametrize(
    "namespace",
    [PUBLICATION_NS_70, PUBLICATION_NS_73, None, "urn:example:some-future-version:9:9"],
    ids=["7:0", "7:3", "none", "other"],
)
def test_publication_namespaces_give_the_same_result(namespace: str | None) -> None:
    start, end = utc(2024, 9, 1, 22), utc(2024, 9, 2, 22)
    extra = (
        '<in_Domain.mRID codingScheme="A01">10YNL----------L</in_Domain.mRID>'
        '<out_Domain.mRID codingScheme="A01">10YNL----------L</out_Domain.mRID>'
        "<currency_Unit.name>EUR</currency_Unit.name>"
        "<price_Measure_Unit.name>MWH</price_Measure_Unit.name>"
        "<classificationSequence_AttributeInstanceComponent.position>2"
        "</classificationSequence_AttributeInstanceComponent.position>"
    )
    period = period_xml(start, end, "PT60M", {1: 80.5, 3: 70.25}, value_tag="price.amount")
    data = document_xml(
        [series_xml([period], curve_type="A03", business_type="A62", extra=extra)],
        start=start,
        end=end,
        root="Publication_MarketDocument",
        namespace=namespace,
        document_type="A44",
        process_type=None,
    )
    document = parse_document(data)
    assert isinstance(document, MarketDocument)
    assert document.root_element == "Publication_MarketDocument"
    assert document.process_type is None
    (series,) = document.series
    assert series.bidding_zone == "10YNL----------L"
    assert (series.currency, series.price_unit) == ("EUR", "MWH")
    assert series.classification_sequence == 2
    assert [p.value for p in series.points] == [80.5, 80.5] + [70.25] * 22


def test_gl_generation_series_metadata() -> None:
    start, end = utc(2024, 1, 1), utc(2024, 1, 1, 1)
    extra = (
        '<inBiddingZone_Domain.mRID codingScheme="A01">10YNL----------L</inBiddingZone_Domain.mRID>'
        "<quantity_Measure_Unit.name>MAW</quantity_Measure_Unit.name>"
        "<MktPSRType><psrType>B19</psrType></MktPSRType>"
    )
    period = period_xml(start, end, "PT15M", [1.0] * 4)
    series = only_series(
        document_xml(
            [series_xml([period], business_type="A01", extra=extra)],
            start=start,
            end=end,
            document_type="A75",
        )
    )
    assert series.psr_type == "B19"
    assert series.in_domain == series.bidding_zone == "10YNL----------L"
    assert series.out_domain is None


def test_flow_between_two_zones_has_no_bidding_zone() -> None:
    start, end = utc(2024, 1, 1), utc(2024, 1, 1, 1)
    extra = (
        '<in_Domain.mRID codingScheme="A01">10YNL----------L</in_Domain.mRID>'
        '<out_Domain.mRID codingScheme="A01">10Y1001A1001A82H</out_Domain.mRID>'
    )
    period = period_xml(start, end, "PT15M", [1.0] * 4)
    data = document_xml(
        [series_xml([period], extra=extra)],
        start=start,
        end=end,
        root="Publication_MarketDocument",
        namespace=PUBLICATION_NS_70,
        document_type="A11",
    )
    series = only_series(data)
    assert (series.in_domain, series.out_domain, series.bidding_zone) == (
        "10YNL----------L",
        "10Y1001A1001A82H",
        None,
    )


# --------------------------------------------------------------------------------------------
# Acknowledgements


def test_acknowledgement_no_data() -> None:
    ack = parse_document(acknowledgement_xml())
    assert isinstance(ack, Acknowledgement)
    assert ack.is_no_data
    assert (ack.mrid, ack.reason_code, ack.reason_text) == (
        "ack-1",
        "999",
        "No matching data found",
    )
    assert ack.created_at == utc(2024, 11, 1, 10)


def test_acknowledgement_refusal() -> None:
    ack = parse_document(acknowledgement_xml("Mandatory parameter periodStart is missing", "999"))
    assert isinstance(ack, Acknowledgement)
    assert not ack.is_no_data
    assert ack.reason_text == "Mandatory parameter periodStart is missing"


# --------------------------------------------------------------------------------------------
# ZIP answers and concatenated documents


def make_zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _two_documents() -> tuple[bytes, bytes]:
    start, end = utc(2024, 1, 1), utc(2024, 1, 1, 1)
    return (
        load_document(start, end, [1.0] * 4, mrid="first"),
        load_document(start, end, [2.0] * 4, mrid="second"),
    )


def test_zip_answer_with_several_documents_in_archive_order() -> None:
    first, second = _two_documents()
    documents = parse_response(make_zip({"001-a.xml": first, "002-b.xml": second}))
    assert [d.mrid for d in documents] == ["first", "second"]
    assert documents == [parse_document(first), parse_document(second)]


def test_zip_answer_skips_members_that_are_not_xml() -> None:
    first, _ = _two_documents()
    documents = parse_response(make_zip({"readme.txt": b"hello", "dir/": b"", "a.xml": first}))
    assert [d.mrid for d in documents] == ["first"]


def test_zip_answer_with_an_acknowledgement() -> None:
    (ack,) = parse_response(make_zip({"ack.xml": acknowledgement_xml()}))
    assert isinstance(ack, Acknowledgement)


def test_zip_with_nothing_parseable_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match=r"ZIP answer holds no ENTSO-E XML document.*'notes\.txt'"):
        parse_response(make_zip({"notes.txt": b"nothing here"}))
    with pytest.raises(ParseError, match=r"ZIP answer holds no ENTSO-E XML document \(0 member"):
        parse_response(make_zip({}))


def test_zip_member_with_malformed_xml_is_named() -> None:
    first, _ = _two_documents()
    with pytest.raises(ParseError, match=r"ZIP member 'broken\.xml': malformed XML"):
        parse_response(make_zip({"a.xml": first, "broken.xml": b"<GL_MarketDocument><mRID>"}))


def test_corrupt_zip_is_a_parse_error() -> None:
    first, _ = _two_documents()
    archive = make_zip({"a.xml": first})
    with pytest.raises(ParseError, match="ZIP"):
        parse_response(archive[: len(archive) // 2])


def test_parse_document_refuses_a_zip_and_points_to_parse_response() -> None:
    first, _ = _two_documents()
    with pytest.raises(ParseError, match="parse_response"):
        parse_document(make_zip({"a.xml": first}))


def test_concatenated_documents() -> None:
    first, second = _two_documents()
    documents = parse_response(first + b"\n" + second)
    assert [d.mrid for d in documents] == ["first", "second"]


def test_parse_response_accepts_a_single_document_and_text() -> None:
    first, _ = _two_documents()
    assert parse_response(first) == [parse_document(first)]
    assert parse_response(first.decode()) == [parse_document(first)]


# --------------------------------------------------------------------------------------------
# Not a document


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty answer"),
        (b"   \n", "empty answer"),
        (b"<GL_MarketDocument><mRID>1</mRID>", "malformed XML"),
        (b"not xml at all", "malformed XML"),
        (
            b"<html><body>502 Bad Gateway</body></html>",
            r"not an ENTSO-E document: the root element is <html>",
        ),
        (
            b'<?xml version="1.0"?><Criticality_MarketDocument/>',
            "Criticality_MarketDocument is not supported",
        ),
        (b"\x00\x01\x02binary", "malformed XML"),
    ],
)
def test_not_a_document_is_a_parse_error(data: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_document(data)
    with pytest.raises(ParseError, match=message):
        parse_response(data)


def test_external_entities_are_not_resolved(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("42")
    data = (
        f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file://{secret}">]>'
        f"<Acknowledgement_MarketDocument><Reason><code>999</code><text>&x;</text></Reason>"
        f"</Acknowledgement_MarketDocument>"
    ).encode()
    ack = parse_document(data)
    assert isinstance(ack, Acknowledgement)
    assert "42" not in ack.reason_text


# --------------------------------------------------------------------------------------------
# Unavailability: A03 kept as blocks


def test_unavailability_a03_points_are_blocks_not_millions_of_minutes() -> None:
    data = (
        b"<Unavailability_MarketDocument"
        b' xmlns="urn:iec62325.351:tc57wg16:451-6:outagedocument:3:0">'
        b"<mRID>u</mRID><revisionNumber>2</revisionNumber><type>A77</type>"
        b"<unavailability_Time_Period.timeInterval><start>2015-09-14T00:00Z</start>"
        b"<end>2021-04-04T00:00Z</end></unavailability_Time_Period.timeInterval>"
        b"<docStatus><value>A05</value></docStatus>"
        b"<TimeSeries><mRID>1</mRID><businessType>A53</businessType><curveType>A03</curveType>"
        b"<production_RegisteredResource.mRID>22WUNIT</production_RegisteredResource.mRID>"
        b"<Available_Period><timeInterval><start>2015-09-14T00:00Z</start>"
        b"<end>2021-04-04T00:00Z</end></timeInterval><resolution>PT1M</resolution>"
        b"<Point><position>1</position><quantity>0</quantity></Point>"
        b"<Point><position>61</position><quantity>100</quantity></Point>"
        b"</Available_Period></TimeSeries></Unavailability_MarketDocument>"
    )
    document = parse_document(data)
    assert isinstance(document, MarketDocument)
    assert document.doc_status == "A05"
    (series,) = document.series
    assert series.registered_resource == "22WUNIT"
    assert [(p.start, p.end, p.value) for p in series.points] == [
        (utc(2015, 9, 14), utc(2015, 9, 14, 1), 0.0),
        (utc(2015, 9, 14, 1), utc(2021, 4, 4), 100.0),
    ]


# --------------------------------------------------------------------------------------------
# Threads and memory


def test_parsing_in_threads_gives_the_same_result() -> None:
    start, end = local_day(datetime(2024, 10, 27))
    documents = [load_document(start, end, [float(i + k) for i in range(100)]) for k in range(8)]
    expected = [parse_document(d) for d in documents]
    with ThreadPoolExecutor(4) as pool:
        for _ in range(3):
            assert list(pool.map(parse_document, documents)) == expected


def test_parsing_a_5_mb_document_stays_under_100_mb_rss() -> None:
    """A one-year PT15M load document is ~5 MB; its parse (tree, points and all) must stay
    under 100 MB peak RSS. Measured in a fresh interpreter: the peak resident set of its own
    memory map (``VmHWM``; ``ru_maxrss`` would carry over the parent's peak across exec)."""
    script = textwrap.dedent(
        """
        import resource
        from entsoe_client import parse_document
        ns = "urn:iec62325.351:tc57wg16:451-6:generationloaddocument:3:0"
        head = (
            f'<?xml version="1.0" encoding="UTF-8"?>\\n<GL_MarketDocument xmlns="{ns}">'
            "<mRID>m</mRID><revisionNumber>1</revisionNumber><type>A65</type>"
            "<TimeSeries><mRID>1</mRID><curveType>A01</curveType><Period><timeInterval>"
            "<start>2022-12-31T23:00Z</start><end>2024-02-11T05:00Z</end></timeInterval>"
            "<resolution>PT15M</resolution>"
        )
        point = (
            "\\n            <Point>\\n                <position>{}</position>"
            "\\n                <quantity>{}.25</quantity>\\n            </Point>"
        )
        count = 39_000  # 406 days and 6 hours of quarter-hours
        body = "".join(point.format(n, 40000 + n % 9973) for n in range(1, count + 1))
        data = (head + body + "</Period></TimeSeries></GL_MarketDocument>").encode()
        del body
        document = parse_document(data)
        try:
            with open("/proc/self/status") as status:
                peak = next(int(l.split()[1]) for l in status if l.startswith("VmHWM:"))
        except OSError:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(len(data), count, len(document.series[0].points), peak)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    size, count, points, peak_kib = map(int, result.stdout.split())
    assert size >= 5_000_000
    assert points == count
    assert peak_kib < 100 * 1024, f"peak RSS {peak_kib / 1024:.0f} MiB"
