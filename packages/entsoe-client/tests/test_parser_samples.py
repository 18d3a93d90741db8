"""Every recorded platform answer in the shared samples folder parses, exactly.

How INDEX.tsv counts ``n_points``: the ``<Point>`` elements present in the file. The parser
forward-fills A03 Periods (a position the platform omitted repeats the previous value, up to
the Period end), so for A03 documents it returns ``n_points + omitted positions``, the omitted
positions being counted independently from the raw XML. Points with an empty value element are
skipped by the parser; the one sample that has them is listed in ``EMPTY_VALUE_POINTS``.
Unavailability documents keep A03 Points as variable-sized blocks (not expanded), so there the
parser returns exactly ``n_points``.

Every point of every document is also compared with ``reference_series``, a slot-by-slot
reference written with ``xml.etree`` (see ``_entsoe_samples``).
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import itertools
import re

from _entsoe_samples import (
    ENERGIEID_DIR,
    SAMPLES_DIR,
    Sample,
    energieid_samples,
    index_samples,
    reference,
    split_concatenated,
)
from entsoe_client import (
    Acknowledgement,
    MarketDocument,
    ParseError,
    parse_document,
    parse_response,
)
from entsoe_client._parser import SUPPORTED_ROOTS

INDEX = index_samples()
ENERGIEID = energieid_samples()

pytestmark = pytest.mark.skipif(not INDEX, reason=f"no samples in {SAMPLES_DIR}")

ACKNOWLEDGEMENT = "Acknowledgement_MarketDocument"
UNSUPPORTED = {"Configuration_MarketDocument", "HVDCLink_MarketDocument"}

GL_AND_PUBLICATION = [
    s for s in INDEX if s.root_element in ("GL_MarketDocument", "Publication_MarketDocument")
]
OTHER_SERIES = [
    s
    for s in INDEX
    if s.root_element in SUPPORTED_ROOTS
    and s.root_element not in ("GL_MarketDocument", "Publication_MarketDocument")
]
ACKNOWLEDGEMENTS = [s for s in INDEX if s.root_element == ACKNOWLEDGEMENT]
NOT_SUPPORTED = [s for s in INDEX if s.root_element in UNSUPPORTED]
ENERGIEID_XML = [s for s in ENERGIEID if s.path.suffix == ".xml"]

EMPTY_VALUE_POINTS = {
    # The API guide's consumption-unavailability example has two ``<quantity />`` Points (no
    # value): the parser skips them, so it returns 10 points where INDEX counts 12 elements.
    "Hexagon__entsoe-api-client/tests__data__unavailability.consumption.xml": 2,
}


def _parts(sample: Sample) -> list[bytes]:
    data = sample.read()
    return split_concatenated(data) if sample.path.suffix == ".txt" else [data]


def _points(
    document: MarketDocument,
) -> list[list[tuple[datetime, datetime, float, int, float | None]]]:
    return [
        [(p.start, p.end, p.value, p.position, p.price) for p in s.points] for s in document.series
    ]


def _dropped(document: MarketDocument) -> int:
    """Points the parser reported as dropped beyond their Period's end."""
    found = (re.search(r"(\d+) Point\(s\) at positions beyond", w) for w in document.warnings)
    return sum(int(match.group(1)) for match in found if match)


def test_index_is_fully_covered() -> None:
    covered = GL_AND_PUBLICATION + OTHER_SERIES + ACKNOWLEDGEMENTS + NOT_SUPPORTED
    assert sorted(s.id for s in covered) == sorted(s.id for s in INDEX)
    assert len(GL_AND_PUBLICATION) == 107
    assert len(ACKNOWLEDGEMENTS) == 55


def _check_series_document(sample: Sample) -> None:
    parts = _parts(sample)
    documents = parse_response(sample.read())
    assert len(documents) == len(parts)
    blocks = sample.root_element == "Unavailability_MarketDocument"
    total = elements = empty = omitted = beyond = 0
    for part, document in zip(parts, documents, strict=True):
        assert isinstance(document, MarketDocument)
        assert document.root_element == sample.root_element
        assert document.document_type == sample.document_type
        assert document.mrid
        for series in document.series:
            assert series.curve_type in ("A01", "A03")
            for point in series.points:
                assert point.start.tzinfo is UTC
                assert point.end.tzinfo is UTC
                assert point.end > point.start
        total += sum(len(s.points) for s in document.series)
        ref = reference(part, blocks=blocks)
        # every point equals the slot-by-slot reference
        assert _points(document) == ref.series
        elements += ref.point_elements
        empty += ref.empty_points
        omitted += 0 if blocks else ref.omitted
        assert _dropped(document) == ref.beyond
        beyond += ref.beyond
    # INDEX.tsv counts the <Point> elements of the file ...
    assert elements == sample.n_points
    # ... the parser skips Points without a value and adds the positions A03 omitted.
    assert empty == EMPTY_VALUE_POINTS.get(sample.id, 0)
    assert total == sample.n_points - empty - beyond + omitted


@pytest.mark.parametrize("sample", GL_AND_PUBLICATION, ids=lambda s: s.id)
def test_gl_and_publication_samples(sample: Sample) -> None:
    _check_series_document(sample)


@pytest.mark.parametrize("sample", OTHER_SERIES, ids=lambda s: s.id)
def test_balancing_transmission_unavailability_samples(sample: Sample) -> None:
    _check_series_document(sample)


@pytest.mark.parametrize("sample", ENERGIEID_XML, ids=lambda s: s.id)
def test_energieid_samples(sample: Sample) -> None:
    # MANIFEST.tsv counts Point elements like INDEX.tsv; these 2020 answers are A01 or outages.
    _check_series_document(sample)


@pytest.mark.parametrize("sample", ACKNOWLEDGEMENTS, ids=lambda s: s.id)
def test_acknowledgement_samples(sample: Sample) -> None:
    documents = parse_response(sample.read())
    assert len(documents) == 1
    ack = documents[0]
    assert isinstance(ack, Acknowledgement)
    # INDEX notes start with "Reason <code>: <text> | ..."
    reason = sample.notes.split(" | ")[0]
    assert reason.startswith(f"Reason {ack.reason_code}: ")
    assert ack.reason_text.startswith(reason.split(": ", 1)[1][:40])
    assert ack.is_no_data == ("No matching data found" in ack.reason_text)
    assert ack.created_at is not None
    assert ack.created_at.tzinfo is UTC


@pytest.mark.parametrize("sample", NOT_SUPPORTED, ids=lambda s: s.id)
def test_unsupported_documents_say_so(sample: Sample) -> None:
    with pytest.raises(ParseError, match=f"{sample.root_element} is not supported"):
        parse_response(sample.read())


def test_real_zip_answers_equal_their_unpacked_members() -> None:
    """The EnergieID folder keeps both the outage/imbalance ZIP answers and their members."""
    zips = sorted(ENERGIEID_DIR.glob("*.zip"))
    assert len(zips) == 4
    for archive in zips:
        members = sorted(archive.parent.glob(archive.stem + "__*.xml"))
        from_zip = parse_response(archive.read_bytes())
        from_files = [parse_document(member.read_bytes()) for member in members]
        assert len(from_zip) == len(members) > 0
        assert from_zip == from_files


# --------------------------------------------------------------------------------------------
# Hand-checked samples: expected values written out, not computed


def _sample(name: str) -> bytes:
    return (SAMPLES_DIR / name).read_bytes()


def test_a03_hand_written_sample() -> None:
    """Positions 1, 3 and 6 of a 6-hour PT1H Period: 2 and 4-5 repeat the previous price."""
    document = parse_document(
        _sample("Hexagon__entsoe-api-client/tests__data__publication.a03curvetype.xml")
    )
    assert isinstance(document, MarketDocument)
    (series,) = document.series
    assert series.curve_type == "A03"
    assert series.resolution == "PT1H"
    assert [p.value for p in series.points] == [50.0, 50.0, 55.0, 55.0, 55.0, 60.0]
    assert [p.position for p in series.points] == [1, 2, 3, 4, 5, 6]
    hours = [datetime(2024, 1, 1, h, tzinfo=UTC) for h in range(7)]
    assert [p.start for p in series.points] == hours[:6]
    assert [p.end for p in series.points] == hours[1:]
    assert series.in_domain == "10YSK-SEPS-----K"
    assert series.out_domain == "10YCZ-CEPS-----N"
    assert series.bidding_zone is None  # a border, not a zone
    assert series.classification_sequence == 1
    assert series.currency == "EUR"
    assert series.price_unit == "EUR"


def test_a03_omitted_leading_and_trailing_positions() -> None:
    """BE solar forecast: positions 2-6 (night) and the trailing 24 are omitted."""
    document = parse_document(
        _sample(
            "EuropeanPowerSystems__ENTSOE.jl/"
            "test__cassettes__generation141_d_generation_forecasts_for_wind_and_solar.yml.xml"
        )
    )
    assert isinstance(document, MarketDocument)
    (series,) = document.series
    given = {
        1: 0.0, 7: 17.2475, 8: 337.025, 9: 1066.4775, 10: 1900.295, 11: 2796.8975,
        12: 3595.6125, 13: 4028.73, 14: 4002.645, 15: 3674.9575, 16: 3127.5275,
        17: 2534.1525, 18: 1889.1375, 19: 1235.85, 20: 585.9, 21: 101.7925, 22: 0.09, 23: 0.0,
    }  # fmt: skip
    expected = [0.0] * 6 + [given[p] for p in range(7, 24)] + [0.0]
    assert [p.value for p in series.points] == expected
    assert [p.position for p in series.points] == list(range(1, 25))
    start = datetime(2023, 8, 15, 22, tzinfo=UTC)
    assert series.points[0].start == start
    assert series.points[-1].end == datetime(2023, 8, 16, 22, tzinfo=UTC)
    assert series.psr_type == "B16"
    assert series.bidding_zone == "10YBE----------2"
    assert series.unit == "MAW"
    assert document.revision_number == 3


def test_a03_out_of_order_positions_and_mixed_resolutions() -> None:
    """A test-edited BE answer: positions out of order, a PT15M then a PT60M Period, and a
    position (3) beyond its 2-hour Period end, which is dropped and reported."""
    document = parse_document(
        _sample("JaccoR__hass-entso-e/custom_components__entsoe__test__datasets__BE_15M_avg.xml")
    )
    assert isinstance(document, MarketDocument)
    quarters, hours = document.series
    assert (quarters.resolution, hours.resolution) == ("PT15M", "PT60M")
    assert quarters.mrid == hours.mrid
    quarter = [55.35, 40.32, 31.86, 28.71] + [44.22] * 6 + [28.37] * 10
    assert [p.value for p in quarters.points] == quarter
    start = datetime(2024, 10, 5, 22, tzinfo=UTC)
    assert [p.start for p in quarters.points] == [
        start + timedelta(minutes=15 * k) for k in range(20)
    ]
    three = datetime(2024, 10, 6, 3, tzinfo=UTC)
    assert [p.value for p in hours.points] == [64.98, 64.98]
    assert [(p.start, p.end) for p in hours.points] == [
        (three + timedelta(hours=k), three + timedelta(hours=k + 1)) for k in range(2)
    ]
    assert len(document.warnings) == 1
    assert (
        "1 Point(s) at positions beyond the Period's last position 2 dropped"
        in (document.warnings[0])
    )


def test_calendar_and_week_resolutions_in_samples() -> None:
    p1y = parse_document(
        _sample(
            "EuropeanPowerSystems__ENTSOE.jl/test__cassettes__load81_year_ahead_forecast_margin.yml.xml"
        )
    )
    assert isinstance(p1y, MarketDocument)
    (point,) = p1y.series[0].points
    assert (point.start, point.end) == (
        datetime(2022, 12, 31, 23, tzinfo=UTC),
        datetime(2023, 12, 31, 23, tzinfo=UTC),
    )
    p1m = parse_document((ENERGIEID_DIR / "query_net_transfer_capacity_yearahead.xml").read_bytes())
    assert isinstance(p1m, MarketDocument)
    # P1M from 2019-12-31T23:00Z steps by local months (the first of each month at midnight in
    # the zone's time): 23:00 UTC in winter, 22:00 UTC in summer time (April to October).
    bounds = (
        [datetime(2019, 12, 31, 23, tzinfo=UTC)]
        + [
            datetime(2020, month, 1, tzinfo=ZoneInfo("Europe/Brussels")).astimezone(UTC)
            for month in range(2, 13)
        ]
        + [datetime(2020, 12, 31, 23, tzinfo=UTC)]
    )
    assert bounds[3] == datetime(2020, 3, 31, 22, tzinfo=UTC)
    assert [(p.start, p.end) for p in p1m.series[0].points] == list(itertools.pairwise(bounds))
