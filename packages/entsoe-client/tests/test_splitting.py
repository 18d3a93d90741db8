"""Range splitting on the local calendar, halving, paging offsets, clipping and merging."""

import itertools
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from entsoe_client import MarketDocument, Point, Span, TimeSeries
from entsoe_client._splitting import (
    clip_documents,
    halve,
    merge_documents,
    page_offsets,
    split_range,
)

BERLIN = ZoneInfo("Europe/Berlin")
HOUR = timedelta(hours=1)


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)  # type: ignore[misc]


def test_monthly_chunks_follow_local_months_across_dst() -> None:
    chunks = split_range(berlin(2024, 1, 1), berlin(2025, 1, 1), Span(months=1), BERLIN)
    assert len(chunks) == 12
    starts = [start.astimezone(BERLIN) for start, _ in chunks]
    assert [(s.month, s.day, s.hour) for s in starts] == [(m, 1, 0) for m in range(1, 13)]
    # consecutive and half-open: each chunk starts where the previous one ended
    assert all(a[1] == b[0] for a, b in itertools.pairwise(chunks))
    # March has 743 hours in Germany (DST starts), October 745
    assert chunks[2][1] - chunks[2][0] == timedelta(days=31) - HOUR
    assert chunks[9][1] - chunks[9][0] == timedelta(days=31) + HOUR


def test_month_end_start_is_clamped_and_never_exceeds_a_month() -> None:
    chunks = split_range(berlin(2024, 1, 31), berlin(2024, 4, 30), Span(months=1), BERLIN)
    local = [
        (s.astimezone(BERLIN).date().isoformat(), e.astimezone(BERLIN).date().isoformat())
        for s, e in chunks
    ]
    assert local == [
        ("2024-01-31", "2024-02-29"),
        ("2024-02-29", "2024-03-29"),
        ("2024-03-29", "2024-04-29"),
        ("2024-04-29", "2024-04-30"),
    ]


def test_day_chunks_are_local_days_of_23_24_and_25_hours() -> None:
    chunks = split_range(berlin(2024, 3, 30), berlin(2024, 4, 1), Span(days=1), BERLIN)
    assert [end - start for start, end in chunks] == [24 * HOUR, 23 * HOUR]
    chunks = split_range(berlin(2024, 10, 27), berlin(2024, 10, 28), Span(days=1), BERLIN)
    assert [end - start for start, end in chunks] == [25 * HOUR]


def test_short_and_empty_ranges() -> None:
    start = datetime(2024, 1, 1, 10, tzinfo=UTC)
    assert split_range(start, start + HOUR, Span(months=1)) == [(start, start + HOUR)]
    assert split_range(start, start, Span(days=1)) == []
    with pytest.raises(ValueError, match="positive"):
        Span()


def test_halve_prefers_whole_hours_and_always_makes_progress() -> None:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    assert halve(start, start + timedelta(days=2)) == start + timedelta(days=1)
    assert halve(start, start + timedelta(hours=3)) == start + HOUR
    middle = halve(start, start + timedelta(minutes=30))
    assert start < middle < start + timedelta(minutes=30)


def test_page_offsets_cover_the_platforms_range() -> None:
    offsets = list(page_offsets())
    assert offsets[0] == 0
    assert offsets[1] == 100
    assert offsets[-1] == 4800
    assert len(offsets) == 49


def _series(starts: list[datetime], value: float = 1.0, resolution: str = "PT60M") -> TimeSeries:
    points = [Point(s, s + HOUR, value, i + 1) for i, s in enumerate(starts)]
    return TimeSeries("1", "A04", "A01", resolution, points, out_domain="10YX")


def _document(revision: int, *series: TimeSeries) -> MarketDocument:
    return MarketDocument(
        "m", revision, None, "A65", "A16", None, None, "GL_MarketDocument", list(series)
    )


def test_clip_keeps_points_that_start_inside_the_half_open_chunk() -> None:
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    document = _document(1, _series([t0 - HOUR, t0, t0 + HOUR, t0 + 2 * HOUR]))
    clipped = clip_documents([document], t0, t0 + 2 * HOUR)
    assert [p.start for p in clipped[0].series[0].points] == [t0, t0 + HOUR]
    assert clip_documents([document], t0 + 5 * HOUR, t0 + 6 * HOUR) == []


def test_merge_keeps_each_point_once_from_the_highest_revision() -> None:
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    old = _document(1, _series([t0, t0 + HOUR], value=1.0))
    new = _document(2, _series([t0 + HOUR, t0 + 2 * HOUR], value=2.0))
    merged = merge_documents([old, new])
    points = sorted(
        (p for d in merged for ts in d.series for p in ts.points), key=lambda p: p.start
    )
    assert [(p.start - t0, p.value) for p in points] == [
        (timedelta(0), 1.0),
        (HOUR, 2.0),
        (2 * HOUR, 2.0),
    ]
    # order of arrival does not matter: an older revision never overwrites a newer one
    merged_reversed = merge_documents([new, old])
    assert sorted(
        (p.start, p.value) for d in merged_reversed for ts in d.series for p in ts.points
    ) == [(p.start, p.value) for p in points]


def test_merge_keeps_different_resolutions_of_one_zone_apart() -> None:
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    hourly = _series([t0], resolution="PT60M")
    quarterly = _series([t0], resolution="PT15M")
    merged = merge_documents([_document(1, hourly, quarterly)])
    assert len(merged[0].series) == 2
