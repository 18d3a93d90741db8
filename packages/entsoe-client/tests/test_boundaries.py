"""Chunk boundaries: no point lost, none doubled, also on DST days and at month edges.

The fake platform answers like the real one: prices and day-ahead data in whole market days
even when a request starts or ends mid-day, other data on the resolution's grid including the
interval that straddles the requested start. A client that concatenates chunk answers doubles
or loses points here; the client must return exactly the points whose interval overlaps the
range.
"""

from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from entsoe_client import MarketDocument, Point, Query
from entsoe_client.testing import FakePlatform, a03_value_at, value_at

from .conftest import ClientFactory

BERLIN = ZoneInfo("Europe/Berlin")
QUARTER = timedelta(minutes=15)
HOUR = timedelta(hours=1)


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)  # type: ignore[misc]


def points_by_series(documents: list[MarketDocument]) -> dict[tuple[str | None, str], list[Point]]:
    grouped: dict[tuple[str | None, str], list[Point]] = {}
    for document in documents:
        for series in document.series:
            grouped.setdefault((series.psr_type, series.resolution), []).extend(series.points)
    return {key: sorted(points, key=lambda p: p.start) for key, points in grouped.items()}


def grid(start: datetime, end: datetime, step: timedelta) -> list[datetime]:
    start = start.astimezone(UTC)
    return [start + step * i for i in range(int((end - start) / step))]


async def test_monthly_split_of_a03_quarter_hours_loses_and_doubles_nothing(
    platform: FakePlatform, make_client: ClientFactory
) -> None:
    platform.resolution, platform.curve_type = "PT15M", "A03"
    start, end = berlin(2024, 1, 1), berlin(2024, 4, 1)  # includes the March DST change
    query = Query.build("actual_load", "DE_LU", start, end)
    # months from each chunk's UTC start, as the platform counts them: 12-31T23 -> 01-31T23 ->
    # 02-29T23 -> 03-29T23 -> 03-31T22 (the Berlin March ends at 22:00Z)
    assert [chunk_end for _, chunk_end in query.chunks()] == [
        datetime(2024, 1, 31, 23, tzinfo=UTC),
        datetime(2024, 2, 29, 23, tzinfo=UTC),
        datetime(2024, 3, 29, 23, tzinfo=UTC),
        datetime(2024, 3, 31, 22, tzinfo=UTC),
    ]
    documents = await make_client().fetch(query)
    ((_, points),) = points_by_series(documents).items()
    expected = grid(start, end, QUARTER)
    assert len(expected) == (31 + 29 + 31) * 96 - 4
    assert [p.start for p in points] == expected
    assert all(p.value == a03_value_at(p.start, QUARTER) for p in points)
    assert len(platform.requests) == 4


async def test_chunked_fetch_equals_one_unsplit_answer(
    platform: FakePlatform, make_client: ClientFactory
) -> None:
    """Odd chunk edges (adaptive halving at 1 day 7 h) give the same points as one request."""
    platform.resolution, platform.curve_type = "PT15M", "A03"
    start, end = berlin(2024, 10, 20, 7), berlin(2024, 10, 30, 13)  # DST ends on the 27th
    query = Query.build("actual_load", "DE_LU", start, end)
    single = points_by_series(await make_client().fetch(query))
    platform.max_span = timedelta(days=1, hours=7)
    chunked = points_by_series(await make_client().fetch(query))

    def timeline(grouped: dict[tuple[str | None, str], list[Point]]) -> list[tuple[object, ...]]:
        # positions count from each answer's Period start, so they differ by design
        return [(p.start, p.end, p.value) for points in grouped.values() for p in points]

    assert timeline(chunked) == timeline(single)
    assert len(timeline(single)) == len(grid(start, end, QUARTER))
    assert len({r.period for r in platform.requests if r.status == 200}) > 8


async def test_prices_over_a_year_in_99_day_chunks_keep_every_hour_once(
    platform: FakePlatform, make_client: ClientFactory
) -> None:
    start, end = berlin(2024, 1, 1), berlin(2025, 1, 1)
    query = Query.build("day_ahead_prices", "DE_LU", start, end)
    documents = await make_client(concurrency=4).fetch(query)
    ((_, points),) = points_by_series(documents).items()
    assert [p.start for p in points] == grid(start, end, HOUR)
    assert len(points) == 8784
    assert all(p.value == value_at(p.start) for p in points)
    # four chunks of at most 99 daily series: no page is full, so none asks for a second one
    assert len(platform.requests_for(offset="0")) == 4
    assert len(platform.requests_for(offset="100")) == 0
    assert len(platform.requests) == 4


async def test_price_chunks_that_start_mid_day_do_not_double_the_day(
    platform: FakePlatform, make_client: ClientFactory
) -> None:
    """The platform answers whole days: the day at a mid-day chunk edge comes twice."""
    start, end = berlin(2024, 3, 30, 12), berlin(2024, 4, 1, 12)
    platform.max_span = timedelta(days=1)  # forces edges at mid-day, across the DST night
    query = Query.build("day_ahead_prices", "DE_LU", start, end)
    documents = await make_client().fetch(query)
    ((_, points),) = points_by_series(documents).items()
    counts = Counter(p.start for p in points)
    assert max(counts.values()) == 1
    assert [p.start for p in points] == grid(start, end, HOUR)
    assert len(points) == 47  # 48 hours minus the one skipped on 31 March
    answered = [r for r in platform.requests if r.status == 200]
    assert len(answered) >= 2


async def test_dst_day_as_its_own_chunk_holds_100_quarter_hours(
    platform: FakePlatform, make_client: ClientFactory
) -> None:
    platform.resolution = "PT15M"
    start, end = berlin(2024, 10, 26), berlin(2024, 10, 29)
    # generation per unit: one local day per request
    query = Query.build("generation_per_unit", "DE_LU", start, end)
    assert [e - s for s, e in query.chunks()] == [24 * HOUR, 25 * HOUR, 24 * HOUR]
    chunks = [chunk async for chunk in make_client().iter_chunks(query)]
    per_chunk = [chunk.point_count // 2 for chunk in chunks]  # two production types
    assert per_chunk == [96, 100, 96]
    series = points_by_series([d for c in chunks for d in c.documents])
    assert set(series) == {("B16", "PT15M"), ("B19", "PT15M")}
    for points in series.values():
        assert [p.start for p in points] == grid(start, end, QUARTER)


async def test_range_edges_inside_an_interval_follow_the_overlap_rule(
    platform: FakePlatform, make_client: ClientFactory
) -> None:
    """A point belongs to a range its interval overlaps, so 10:07-12:53 holds the hours from
    10:00, 11:00 and 12:00 (the 13:00 hour lies after it).

    The end has seconds: the request still asks up to 12:54 so the 12:00 point is in.
    """
    start = datetime(2024, 3, 1, 10, 7, tzinfo=UTC)
    end = datetime(2024, 3, 1, 12, 53, 30, tzinfo=UTC)
    query = Query.build("actual_load", "DE_LU", start, end)
    documents = await make_client().fetch(query)
    ((_, points),) = points_by_series(documents).items()
    assert [p.start.hour for p in points] == [10, 11, 12]
    assert platform.requests[0].params["periodEnd"] == "202403011254"


async def test_yearly_points_are_not_cut_by_a_monthly_limit(
    platform: FakePlatform, make_client: ClientFactory
) -> None:
    start, end = berlin(2023, 1, 1), berlin(2025, 1, 1)
    query = Query.build("forecast_margin", "DE_LU", start, end)
    documents = await make_client().fetch(query)
    ((_, points),) = points_by_series(documents).items()
    assert [p.start for p in points] == [berlin(2023, 1, 1), berlin(2024, 1, 1)]
    assert [p.end for p in points] == [berlin(2024, 1, 1), berlin(2025, 1, 1)]
    assert len(platform.requests) == 2
