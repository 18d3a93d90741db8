"""Processors on real recorded platform answers and on generated DST days; coverage maths."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from energy_data_service.coverage import fraction_covered, holes
from energy_data_service.domain import step_end
from energy_data_service.errors import UnsupportedDocumentError
from energy_data_service.processors import data_type_of, process_documents
from entsoe_client import parse_response
from entsoe_client.testing import generate_document, value_at

SAMPLES = Path(__file__).resolve().parents[3] / "testdata" / "entsoe-samples"
FETCHED = datetime(2025, 1, 1, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
DE_LU = "10Y1001A1001A82H"


def points_of(name: str) -> list:  # type: ignore[type-arg]
    return process_documents(parse_response((SAMPLES / name).read_bytes()), FETCHED)


def test_prices_keep_both_resolutions_and_both_sequences() -> None:
    points = points_of(
        "JaccoR__hass-entso-e/custom_components__entsoe__test__datasets__DE_60M_15M_overlap.xml"
    )
    series = Counter((p.resolution, p.classification_sequence, p.unit) for p in points)
    assert series == {("PT15M", 2, "EUR/MWH"): 192, ("PT60M", 1, "EUR/MWH"): 48}
    assert {p.area_code for p in points} == {DE_LU}
    assert {p.data_type for p in points} == {"day_ahead_prices"}


def test_two_quarter_hour_price_sequences_stay_apart() -> None:
    points = points_of(
        "openhab__openhab-addons/"
        "bundles__org.openhab.binding.entsoe__src__test__resources__response-PT15M.xml"
    )
    assert Counter(p.classification_sequence for p in points) == {1: 192, 2: 192}
    keys = {(p.classification_sequence, p.timestamp) for p in points}
    assert len(keys) == len(points)


def test_actual_load_with_provenance() -> None:
    points = points_of(
        "EuropeanPowerSystems__ENTSOE.jl/test__cassettes__load_61a_actual_total_load_NL.yml.xml"
    )
    assert len(points) == 96
    first = points[0]
    assert (first.area_code, first.data_type, first.business_type, first.unit) == (
        "10YNL----------L",
        "actual_load",
        "A04",
        "MAW",
    )
    assert first.timestamp == datetime(2024, 9, 1, 22, tzinfo=UTC)
    assert first.revision_number == 1
    assert first.document_mrid
    assert first.fetched_at == FETCHED


@pytest.mark.parametrize(
    ("day", "quarter_hours"),
    [(datetime(2024, 3, 31), 92), (datetime(2024, 10, 27), 100), (datetime(2024, 6, 1), 96)],
)
def test_dst_days_through_processor_and_gap_analysis(day: datetime, quarter_hours: int) -> None:
    start = day.replace(tzinfo=BERLIN).astimezone(UTC)
    end = (day + timedelta(days=1)).replace(tzinfo=BERLIN).astimezone(UTC)
    params = {
        "documentType": "A65",
        "processType": "A16",
        "outBiddingZone_Domain": DE_LU,
        "periodStart": f"{start:%Y%m%d%H%M}",
        "periodEnd": f"{end:%Y%m%d%H%M}",
    }
    document = generate_document(params, resolution="PT15M")
    points = process_documents(parse_response(document), FETCHED)
    assert len(points) == quarter_hours
    assert all(p.value == value_at(p.timestamp) for p in points)
    present = [(p.timestamp, p.resolution) for p in points]
    assert holes(present, start, end, BERLIN) == []
    missing_one = present[:10] + present[11:]
    gap = holes(missing_one, start, end, BERLIN)
    assert gap == [(present[10][0], present[10][0] + timedelta(minutes=15))]
    assert fraction_covered(gap, start, end) == pytest.approx(1 - 1 / quarter_hours)
    # a whole local day as one P1D point covers exactly that 23/25-hour day
    assert step_end(start, "P1D", BERLIN) == end


def test_unsupported_documents_are_named() -> None:
    params = {  # unavailability of generation units: not a time series of the catalogue
        "documentType": "A80",
        "processType": "A26",
        "in_Domain": DE_LU,
        "periodStart": "202401010000",
        "periodEnd": "202401010100",
    }
    (document,) = parse_response(generate_document(params))
    with pytest.raises(UnsupportedDocumentError, match="A80"):
        data_type_of(document)  # type: ignore[arg-type]
