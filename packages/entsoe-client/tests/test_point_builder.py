"""The parser's fast Point building gives exactly the points built the ordinary way.

``build_points_by_slots`` fills ``Point``'s slots column by column; ``build_points_plainly``
calls ``Point(...)`` once per point. Both are run on generated columns (empty, NaN and infinite
values, prices beside quantities, missing prices) and, through the whole parser, on every
recorded sample and on generated documents (A01, A03, daily steps over DST days): the points
must be equal, hash alike and be plain, frozen ``Point`` objects.
"""

from __future__ import annotations

import dataclasses
import gc
import math
import platform
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))

from _entsoe_samples import (
    SAMPLES_DIR,
    energieid_samples,
    index_samples,
)
from entsoe_client import (
    Acknowledgement,
    MarketDocument,
    ParseError,
    Point,
    _parser,
    parse_response,
)
from entsoe_client._point_builder import (
    build_points,
    build_points_by_slots,
    build_points_plainly,
    cyclic_gc_paused,
)
from entsoe_client.testing import generate_document

SAMPLES = [
    s
    for s in [*index_samples(), *energieid_samples()]
    if s.path.suffix in (".xml", ".txt", ".zip") and s.path.exists()
]


def _same_points(fast: list[Point], plain: list[Point]) -> None:
    """Equal, in order, field by field (NaN compared as NaN), with equal hashes and reprs."""
    assert len(fast) == len(plain)
    for a, b in zip(fast, plain, strict=True):
        assert type(a) is Point
        for field in dataclasses.fields(Point):
            x, y = getattr(a, field.name), getattr(b, field.name)
            if isinstance(x, float) and math.isnan(x):
                assert isinstance(y, float)
                assert math.isnan(y)
            else:
                assert x == y, field.name
                assert type(x) is type(y), field.name
        assert hash(a) == hash(b)
        assert repr(a) == repr(b)
    assert fast == plain


numbers = st.floats(allow_nan=True, allow_infinity=True, width=64)


@st.composite
def columns(
    draw: st.DrawFn,
) -> tuple[list[datetime], list[datetime], list[float], range, list[float | None] | None]:
    count = draw(st.integers(min_value=0, max_value=60))
    first = draw(st.integers(min_value=1, max_value=1000))
    step = draw(st.sampled_from([timedelta(minutes=15), timedelta(hours=1), timedelta(days=1)]))
    origin = draw(st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1)))
    bounds = [origin.replace(tzinfo=UTC) + k * step for k in range(count + 1)]
    values = draw(st.lists(numbers, min_size=count, max_size=count))
    prices = draw(st.none() | st.lists(st.none() | numbers, min_size=count, max_size=count))
    return bounds[:-1], bounds[1:], values, range(first, first + count), prices


@given(columns())
def test_slot_filled_points_equal_points_built_plainly(
    data: tuple[list[datetime], list[datetime], list[float], range, list[float | None] | None],
) -> None:
    starts, ends, values, positions, prices = data
    fast = build_points_by_slots(starts, ends, values, positions, prices)
    plain = build_points_plainly(starts, ends, values, positions, prices)
    _same_points(fast, plain)
    assert [p.position for p in fast] == list(positions)
    assert [p.price for p in fast] == [p.price for p in plain]
    if prices is None:
        assert all(p.price is None for p in fast)


def test_slot_filled_points_are_frozen_and_complete() -> None:
    start = datetime(2026, 3, 29, tzinfo=UTC)
    (point,) = build_points_by_slots([start], [start + timedelta(hours=1)], [1.5], [1], None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        point.value = 2.0  # type: ignore[misc]
    assert dataclasses.astuple(point) == (start, start + timedelta(hours=1), 1.5, 1, None)
    assert point == Point(start, start + timedelta(hours=1), 1.5, 1)
    assert {point, Point(start, start + timedelta(hours=1), 1.5, 1)} == {point}


@pytest.mark.skipif(platform.python_implementation() != "CPython", reason="CPython slots")
def test_the_parser_uses_the_slot_filled_version_on_cpython() -> None:
    assert build_points is build_points_by_slots
    assert _parser.build_points is build_points_by_slots


def _parse_both(data: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[list[object], list[object]]:
    """The documents of ``data`` parsed with the fast builder and with the reference builder;
    a ``ParseError`` must be the same with both."""

    def parse() -> list[object]:
        try:
            return list(parse_response(data))
        except ParseError as error:
            return [f"ParseError: {error}"]

    fast = parse()
    with monkeypatch.context() as patch:
        patch.setattr(_parser, "build_points", build_points_plainly)
        plain = parse()
    return fast, plain


def _compare_documents(fast: list[object], plain: list[object]) -> int:
    """Assert the two parses agree point by point; the number of points compared."""
    assert len(fast) == len(plain)
    compared = 0
    for a, b in zip(fast, plain, strict=True):
        assert type(a) is type(b)
        if isinstance(a, MarketDocument):
            assert isinstance(b, MarketDocument)
            assert len(a.series) == len(b.series)
            for sa, sb in zip(a.series, b.series, strict=True):
                _same_points(list(sa.points), list(sb.points))
                compared += len(sa.points)
            assert dataclasses.replace(a, series=[]) == dataclasses.replace(b, series=[])
        else:
            assert isinstance(a, Acknowledgement | str)
            assert a == b
    return compared


@pytest.mark.skipif(not SAMPLES, reason=f"no samples in {SAMPLES_DIR}")
@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.id)
def test_recorded_samples_parse_to_the_same_points_either_way(
    sample: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = sample.read()  # type: ignore[attr-defined]
    fast, plain = _parse_both(data, monkeypatch)
    _compare_documents(fast, plain)


def test_the_samples_hold_many_points() -> None:
    """The sample comparison above is not vacuous: the folder holds real series."""
    if not SAMPLES:
        pytest.skip(f"no samples in {SAMPLES_DIR}")
    assert sum(s.n_points for s in SAMPLES) > 10_000


DE_LU = "10Y1001A1001A82H"


@pytest.mark.parametrize(
    ("document_type", "process_type", "resolution", "curve_type", "start", "end"),
    [
        ("A65", "A16", "PT15M", "A01", "202603282300", "202603292200"),  # 23-hour day
        ("A65", "A16", "PT15M", "A03", "202610242200", "202610252300"),  # 25-hour day, A03
        ("A44", None, "PT60M", "A01", "202601010000", "202601080000"),  # prices
        ("A44", None, "PT15M", "A03", "202510010000", "202510020000"),  # 15-minute prices, A03
        ("A65", "A31", "P1D", "A01", "202602282300", "202604302200"),  # days over DST
        ("A65", "A32", "P7D", "A01", "202602282300", "202604302200"),  # weeks over DST
    ],
)
def test_generated_documents_parse_to_the_same_points_either_way(
    document_type: str,
    process_type: str | None,
    resolution: str,
    curve_type: str,
    start: str,
    end: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    params = {"documentType": document_type, "periodStart": start, "periodEnd": end}
    if process_type is None:
        params |= {"in_Domain": DE_LU, "out_Domain": DE_LU}
    else:
        params |= {"processType": process_type, "outBiddingZone_Domain": DE_LU}
    data = generate_document(params, resolution=resolution, curve_type=curve_type)
    fast, plain = _parse_both(data, monkeypatch)
    assert _compare_documents(fast, plain) > 0


def test_cyclic_gc_is_paused_and_restored() -> None:
    assert gc.isenabled()
    with cyclic_gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), cyclic_gc_paused():
        raise RuntimeError
    assert gc.isenabled()


def test_cyclic_gc_stays_off_when_it_was_off() -> None:
    gc.disable()
    try:
        with cyclic_gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
