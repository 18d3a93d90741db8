"""``point_encoding.rows`` (columns, one lookup per uniform column) against ``rows_plain``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from energy_data_service.domain import EnergyPoint
from energy_data_service.repositories.point_encoding import (
    copy_records,
    copy_records_plain,
    prepare,
    rows,
    rows_plain,
)

T0 = datetime(2024, 10, 27, 0, tzinfo=UTC)
FETCHED = datetime(2024, 10, 28, 6, 0, 0, 1, tzinfo=UTC)


def point(index: int, **changes: object) -> EnergyPoint:
    base = EnergyPoint(
        "10Y1001A1001A82H",
        "actual_load",
        "A04",
        "PT15M",
        0,
        T0 + timedelta(minutes=15 * index),
        1000.0 + index,
        "MAW",
        "A01",
        "doc-1",
        1,
        FETCHED - timedelta(hours=1),
        FETCHED,
    )
    return base._replace(**changes)


BATCHES = {
    "one series, one document": [point(i) for i in range(200)],
    "two series interleaved, two documents": [
        point(i, resolution="PT60M" if i % 3 else "PT15M", document_mrid=f"doc-{i % 2}")
        for i in range(200)
    ],
    "runs of a series coming back": [
        point(i, business_type="A04" if (i // 10) % 2 else "A60") for i in range(100)
    ],
    "prices, calendar ends, no created time": [
        point(
            i,
            price=50.0 + i,
            resolution="P1D",
            end=T0 + timedelta(days=i + 1),
            document_created_at=None,
            fetched_at=FETCHED.replace(microsecond=0),
        )
        for i in range(20)
    ],
    "directional and per production type": [
        point(i, out_area_code="10YFR-RTE------C", psr_type=("B16", "B19")[i % 2])
        for i in range(40)
    ],
}


@pytest.mark.parametrize("name", list(BATCHES))
def test_rows_match_the_plain_version(name: str) -> None:
    points = BATCHES[name]
    batch = prepare(points)
    series_ids = {key: 10 + n for n, key in enumerate(batch.series)}
    fetch_ids = {document: 100 + n for n, document in enumerate(batch.documents)}
    assert rows(batch, series_ids, fetch_ids) == rows_plain(points, series_ids, fetch_ids)


@pytest.mark.parametrize("name", [*BATCHES, "starts with a fraction of a second"])
def test_copy_records_match_the_plain_version(name: str) -> None:
    """The COPY encoding (aware datetimes) names the same instants as ``rows`` does."""
    points = BATCHES.get(name) or [
        point(i, timestamp=T0 + timedelta(minutes=15 * i, microseconds=250_000)) for i in range(10)
    ]
    batch = prepare(points)
    series_ids = {key: 10 + n for n, key in enumerate(batch.series)}
    fetch_ids = {document: 100 + n for n, document in enumerate(batch.documents)}
    fast = list(copy_records(batch, series_ids, fetch_ids))
    assert fast == copy_records_plain(points, series_ids, fetch_ids)
    assert all(row[1].tzinfo is not None and row[-1].tzinfo is not None for row in fast)


def test_spans_cover_every_run_of_a_series() -> None:
    batch = prepare(BATCHES["runs of a series coming back"])
    assert len(batch.series) == 2
    for key, span in batch.series.items():
        own = [p for p in BATCHES["runs of a series coming back"] if p.business_type == key[4]]
        assert (span.first, span.last) == (own[0].timestamp, own[-1].timestamp)


def test_known_from_rounds_a_fetch_up_to_the_second() -> None:
    points = BATCHES["one series, one document"]
    batch = prepare(points)
    (row, *_) = rows(batch, dict.fromkeys(batch.series, 1), dict.fromkeys(batch.documents, 1))
    assert row[-1] == int(FETCHED.replace(microsecond=0).timestamp()) + 1
