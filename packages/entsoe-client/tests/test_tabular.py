"""Documents as rows, CSV, JSON and DataFrames."""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import itertools

from _entsoe_samples import (
    PUBLICATION_NS_73,
    SAMPLES_DIR,
    acknowledgement_xml,
    document_xml,
    load_document,
    period_xml,
    series_xml,
)
from entsoe_client import (
    COLUMNS,
    MarketDocument,
    Point,
    TimeSeries,
    iter_rows,
    parse_document,
    parse_response,
    to_dataframe,
    write_csv,
    write_json,
)

START, END = datetime(2024, 3, 30, 23, tzinfo=UTC), datetime(2024, 3, 31, 22, tzinfo=UTC)


def load() -> MarketDocument:
    document = parse_document(
        load_document(START, END, [40000.0 + i for i in range(92)], mrid="load-1", revision=2)
    )
    assert isinstance(document, MarketDocument)
    return document


def prices() -> MarketDocument:
    extra = (
        '<in_Domain.mRID codingScheme="A01">10YNL----------L</in_Domain.mRID>'
        '<out_Domain.mRID codingScheme="A01">10YNL----------L</out_Domain.mRID>'
        "<currency_Unit.name>EUR</currency_Unit.name>"
        "<price_Measure_Unit.name>MWH</price_Measure_Unit.name>"
        "<classificationSequence_AttributeInstanceComponent.position>1"
        "</classificationSequence_AttributeInstanceComponent.position>"
    )
    day, noon, end = (
        datetime(2025, 9, 30, 22, tzinfo=UTC),
        datetime(2025, 10, 1, 10, tzinfo=UTC),
        datetime(2025, 10, 1, 22, tzinfo=UTC),
    )
    periods = [
        period_xml(day, noon, "PT60M", {1: 90.5, 12: 80.0}, value_tag="price.amount"),
        period_xml(noon, end, "PT15M", {1: 70.25}, value_tag="price.amount"),
    ]
    document = parse_document(
        document_xml(
            [series_xml(periods, curve_type="A03", business_type="A62", extra=extra)],
            start=day,
            end=end,
            root="Publication_MarketDocument",
            namespace=PUBLICATION_NS_73,
            document_type="A44",
            process_type=None,
        )
    )
    assert isinstance(document, MarketDocument)
    return document


def test_columns_are_public_and_start_with_the_point() -> None:
    assert COLUMNS[:3] == ("timestamp", "end", "value")
    for name in (
        "document_mrid",
        "revision_number",
        "document_type",
        "process_type",
        "business_type",
        "area",
        "in_domain",
        "out_domain",
        "resolution",
        "curve_type",
        "unit",
        "currency",
        "price_unit",
        "psr_type",
        "classification_sequence",
        "position",
    ):
        assert name in COLUMNS
    assert len(set(COLUMNS)) == len(COLUMNS)


def test_rows_of_a_load_document() -> None:
    rows = list(iter_rows([load()]))
    assert len(rows) == 92  # the spring DST day in Europe/Berlin
    assert all(tuple(row) == COLUMNS for row in rows)
    first, last = rows[0], rows[-1]
    assert first["timestamp"] == "2024-03-30T23:00:00+00:00"
    assert first["end"] == "2024-03-30T23:15:00+00:00"
    assert last["end"] == "2024-03-31T22:00:00+00:00"
    assert first["value"] == 40000.0
    assert first["position"] == 1
    assert last["position"] == 92
    assert first["document_mrid"] == "load-1"
    assert first["revision_number"] == 2
    assert (first["document_type"], first["process_type"]) == ("A65", "A16")
    assert first["area"] == "10Y1001A1001A82H"
    assert (first["resolution"], first["curve_type"], first["unit"]) == ("PT15M", "A01", "MAW")
    assert first["currency"] is None
    for a, b in itertools.pairwise(rows):
        assert a["end"] == b["timestamp"]
        assert datetime.fromisoformat(b["timestamp"]) - datetime.fromisoformat(
            a["timestamp"]
        ) == timedelta(minutes=15)


def test_rows_of_a03_prices_are_expanded_with_each_periods_resolution() -> None:
    rows = list(iter_rows(prices()))
    assert len(rows) == 12 + 48
    assert [r["value"] for r in rows[:12]] == [90.5] * 11 + [80.0]
    assert {r["value"] for r in rows[12:]} == {70.25}
    assert {r["resolution"] for r in rows[:12]} == {"PT60M"}
    assert {r["resolution"] for r in rows[12:]} == {"PT15M"}
    assert rows[0]["area"] == "10YNL----------L"
    assert (rows[0]["currency"], rows[0]["price_unit"]) == ("EUR", "MWH")
    assert rows[0]["classification_sequence"] == 1
    assert rows[0]["curve_type"] == "A03"


def test_acknowledgements_give_no_rows() -> None:
    (ack,) = parse_response(acknowledgement_xml())
    assert list(iter_rows([ack])) == []
    assert len(list(iter_rows([ack, load()]))) == 92


def test_area_falls_back_to_the_documents_domain() -> None:
    series = TimeSeries(
        mrid="1",
        business_type="A19",
        curve_type="A01",
        resolution="PT15M",
        points=[Point(START, START + timedelta(minutes=15), 1.5, 1)],
    )
    document = MarketDocument(
        mrid="b",
        revision_number=1,
        created_at=None,
        document_type="A85",
        process_type="A16",
        period_start=START,
        period_end=END,
        root_element="Balancing_MarketDocument",
        series=[series],
        domain="10YBE----------2",
    )
    (row,) = iter_rows(document)
    assert row["area"] == "10YBE----------2"


def test_csv_round_trip() -> None:
    out = io.StringIO()
    count = write_csv([load(), prices()], out)
    assert count == 92 + 60
    text = out.getvalue()
    assert text.splitlines()[0] == ",".join(COLUMNS)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == count
    assert rows[0]["timestamp"] == "2024-03-30T23:00:00+00:00"
    assert rows[0]["currency"] == ""  # absent metadata is an empty cell
    expected = [p.value for d in (load(), prices()) for s in d.series for p in s.points]
    assert [float(r["value"]) for r in rows] == expected


def test_csv_accepts_rows_and_a_column_selection() -> None:
    out = io.StringIO()
    assert write_csv(iter_rows(load()), out, columns=("timestamp", "value")) == 92
    lines = out.getvalue().splitlines()
    assert lines[0] == "timestamp,value"
    assert lines[1] == "2024-03-30T23:00:00+00:00,40000.0"


def test_empty_csv_is_just_the_header() -> None:
    out = io.StringIO()
    assert write_csv([], out) == 0
    assert out.getvalue() == ",".join(COLUMNS) + "\n"


def test_json_array_and_lines() -> None:
    out = io.StringIO()
    assert write_json([prices()], out) == 60
    records = json.loads(out.getvalue())
    assert len(records) == 60
    assert list(records[0]) == list(COLUMNS)
    assert records[0]["timestamp"] == "2025-09-30T22:00:00+00:00"
    assert records[0]["process_type"] is None
    assert records[0]["value"] == 90.5

    out = io.StringIO()
    assert write_json([prices()], out, lines=True) == 60
    lines = out.getvalue().splitlines()
    assert len(lines) == 60
    assert json.loads(lines[-1])["value"] == 70.25


def test_empty_json_is_an_empty_array() -> None:
    out = io.StringIO()
    assert write_json([], out) == 0
    assert json.loads(out.getvalue()) == []


def test_json_writes_nan_as_null() -> None:
    out = io.StringIO()
    write_json([{"timestamp": "t", "value": float("nan")}], out, columns=("timestamp", "value"))
    assert json.loads(out.getvalue()) == [{"timestamp": "t", "value": None}]


def test_dataframe() -> None:
    pd = pytest.importorskip("pandas")
    frame = to_dataframe([load(), prices()])
    assert list(frame.columns) == list(COLUMNS)
    assert len(frame) == 152
    assert str(frame["timestamp"].dt.tz) == "UTC"
    assert frame["timestamp"].iloc[0] == pd.Timestamp("2024-03-30T23:00:00Z")
    assert frame["end"].iloc[91] == pd.Timestamp("2024-03-31T22:00:00Z")
    assert frame["value"].dtype == "float64"
    assert frame["resolution"].iloc[92] == "PT60M"
    assert frame["resolution"].iloc[-1] == "PT15M"
    assert frame["classification_sequence"].iloc[-1] == 1


def test_dataframe_of_nothing_has_the_columns() -> None:
    pytest.importorskip("pandas")
    frame = to_dataframe([])
    assert list(frame.columns) == list(COLUMNS)
    assert len(frame) == 0


def test_dataframe_without_pandas_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas -> ImportError
    with pytest.raises(ImportError, match=r"pip install 'entsoe-client\[pandas\]'"):
        to_dataframe([load()])


@pytest.mark.skipif(not SAMPLES_DIR.exists(), reason="no samples")
def test_rows_of_a_real_year() -> None:
    data = (
        SAMPLES_DIR / "angryvoegi__REntsoE/tests__testthat__web-api.tp.entsoe.eu__A65A16.R.xml"
    ).read_bytes()
    rows = list(iter_rows(parse_response(data)))
    assert len(rows) == 8784  # 2020 is a leap year, hourly
    assert rows[0]["timestamp"] == "2019-12-31T23:00:00+00:00"
    assert rows[-1]["end"] == "2020-12-31T23:00:00+00:00"
