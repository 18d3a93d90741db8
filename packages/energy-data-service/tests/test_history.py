"""The history of every value and as-of reads, on both backends.

Each case stores documents as the collector would (one fetch time per document) and reads
back through the repositories the API and export use.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import permutations

from energy_data_service.db.tables import point_history
from energy_data_service.domain import EnergyPoint
from energy_data_service.repositories.points import PointRepository
from energy_data_service.repositories.series_reads import SeriesReadRepository
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

DE_LU = "10Y1001A1001A82H"
T0 = datetime(2024, 3, 1, tzinfo=UTC)
DAY = timedelta(days=1)
F1 = datetime(2024, 3, 2, 8, 0, 0, 250_000, tzinfo=UTC)
F2 = F1 + timedelta(hours=6)
F3 = F1 + timedelta(hours=12)


def hour(
    index: int,
    value: float,
    fetched: datetime,
    *,
    revision: int = 1,
    created: datetime | None = None,
    price: float | None = None,
) -> EnergyPoint:
    return EnergyPoint(
        area_code=DE_LU,
        data_type="actual_load",
        business_type="A04",
        resolution="PT60M",
        classification_sequence=0,
        timestamp=T0 + timedelta(hours=index),
        value=value,
        unit="MAW",
        curve_type="A01",
        document_mrid=f"doc-{fetched:%H%M%S}-r{revision}",
        revision_number=revision,
        document_created_at=created if created is not None else fetched - timedelta(minutes=5),
        fetched_at=fetched,
        price=price,
    )


async def values(
    repo: PointRepository, as_of: datetime | None = None, hours: int = 4
) -> list[float]:
    found = await repo.range(DE_LU, "actual_load", T0, T0 + timedelta(hours=hours), as_of=as_of)
    return [p.value for p in found]


async def history_rows(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(point_history)) or 0)


async def test_a_revised_value_keeps_the_first_for_as_of_reads(engine: AsyncEngine) -> None:
    repo = PointRepository(engine)
    await repo.upsert([hour(i, 100.0 + i, F1) for i in range(4)])
    await repo.upsert([hour(i, 100.0 + i if i % 2 else 200.0 + i, F3) for i in range(4)])

    assert await values(repo) == [200.0, 101.0, 202.0, 103.0]
    assert await values(repo, as_of=F2) == [100.0, 101.0, 102.0, 103.0]
    assert await values(repo, as_of=F3 + timedelta(seconds=1)) == [200.0, 101.0, 202.0, 103.0]
    assert await values(repo, as_of=F1 - timedelta(seconds=1)) == []
    assert await history_rows(engine) == 2

    reads = SeriesReadRepository(engine)
    (series,) = await reads.series_in_range(DE_LU, "actual_load", T0, T0 + DAY)
    first, second = await reads.versions(series, T0 + timedelta(minutes=30))
    assert (first.value, second.value) == (100.0, 200.0)
    assert first.known_from == datetime(2024, 3, 2, 8, 0, 1, tzinfo=UTC)  # fetch, rounded up
    assert first.known_until == second.known_from
    assert second.known_until is None
    assert first.fetched_at == F1
    assert second.fetched_at == F3
    assert second.document_mrid == f"doc-{F3:%H%M%S}-r1"
    (only,) = await reads.versions(series, T0 + timedelta(hours=1))
    assert (only.value, only.fetched_at, only.known_until) == (101.0, F3, None)


async def test_an_unchanged_refetch_writes_no_history(engine: AsyncEngine) -> None:
    repo = PointRepository(engine)
    await repo.upsert([hour(i, 50.0, F1) for i in range(4)])
    await repo.upsert([hour(i, 50.0, F2) for i in range(4)])
    assert await history_rows(engine) == 0
    stored = await repo.range(DE_LU, "actual_load", T0, T0 + timedelta(hours=4))
    assert {p.fetched_at for p in stored} == {F2}  # the newest document stating the value
    assert await values(repo, as_of=F1 + timedelta(seconds=1)) == [50.0] * 4


async def versions_of(engine: AsyncEngine, index: int = 0) -> list[tuple[float, int, int | None]]:
    """(value, known_from, known_until) of every version of hour ``index``, as epoch seconds."""
    reads = SeriesReadRepository(engine)
    (series,) = await reads.series_in_range(DE_LU, "actual_load", T0, T0 + DAY)
    return [
        (
            v.value,
            int(v.known_from.timestamp()),
            None if v.known_until is None else int(v.known_until.timestamp()),
        )
        for v in await reads.versions(series, T0 + timedelta(hours=index))
    ]


def known(fetched: datetime) -> int:
    """``known_from`` of a fetch: its time rounded up to the whole second."""
    return int(fetched.timestamp()) + (1 if fetched.microsecond else 0)


async def answers(repo: PointRepository, moments: list[datetime]) -> set[float]:
    """Every value an as-of read of hour 0 gives at any of ``moments``."""
    return {v for moment in moments for v in await values(repo, as_of=moment, hours=1)}


def around(*fetches: datetime) -> list[datetime]:
    """Instants just before, at and after each fetch's ``known_from``, and far later."""
    seconds = [known(f) + d for f in fetches for d in (-1, 0, 1, 3600)]
    return [datetime.fromtimestamp(s, UTC) for s in seconds] + [F3 + DAY]


async def test_a_backfill_fetched_earlier_never_overwrites_a_fresher_value(
    engine: AsyncEngine,
) -> None:
    repo = PointRepository(engine)
    await repo.upsert([hour(0, 2.0, F3)])
    await repo.upsert([hour(0, 1.0, F2)])  # fetched before, committed after: older createdDateTime
    assert await values(repo, hours=1) == [2.0]
    # Kept as what it is: superseded when it was learned, an empty span at its fetch time.
    assert await versions_of(engine) == [(1.0, known(F2), known(F2)), (2.0, known(F3), None)]
    assert await answers(repo, around(F2, F3)) == {2.0}
    await repo.upsert([hour(0, 1.0, F2)])  # offered again: recorded once
    assert await history_rows(engine) == 1


async def test_an_older_revision_never_wins_even_fetched_later(engine: AsyncEngine) -> None:
    repo = PointRepository(engine)
    await repo.upsert([hour(0, 2.0, F1, revision=2)])
    await repo.upsert([hour(0, 1.0, F3, revision=1)])
    assert await values(repo, hours=1) == [2.0]
    assert await versions_of(engine) == [(1.0, known(F3), known(F3)), (2.0, known(F1), None)]
    assert await answers(repo, around(F1, F3)) == {2.0}


async def test_a_late_older_revision_with_the_stored_value_writes_nothing(
    engine: AsyncEngine,
) -> None:
    repo = PointRepository(engine)
    await repo.upsert([hour(0, 2.0, F2, revision=2)])
    await repo.upsert([hour(0, 2.0, F1, revision=1)])
    assert await history_rows(engine) == 0
    assert await versions_of(engine) == [(2.0, known(F2), None)]


async def test_a_later_created_document_wins_at_equal_revision(engine: AsyncEngine) -> None:
    repo = PointRepository(engine)
    await repo.upsert([hour(0, 2.0, F1, created=F1)])
    stale = hour(0, 1.0, F3, created=F1 - DAY)  # re-served stale document
    await repo.upsert([stale])
    assert await values(repo, hours=1) == [2.0]
    assert await versions_of(engine) == [(1.0, known(F3), known(F3)), (2.0, known(F1), None)]
    await repo.upsert([stale._replace(fetched_at=F3 + DAY)])  # and served again a day later
    assert await history_rows(engine) == 1


async def test_a_newer_revision_fetched_earlier_wins_without_a_negative_span(
    engine: AsyncEngine,
) -> None:
    repo = PointRepository(engine)
    await repo.upsert([hour(0, 1.0, F3, revision=1)])
    await repo.upsert([hour(0, 2.0, F2, revision=2)])  # fetched before, committed after
    assert await values(repo, hours=1) == [2.0]
    # The winner counts from the replaced value's known_from (never earlier: that instant's
    # answer is not rewritten); the first value was superseded when it was learned (a better
    # version had been fetched before it), so it keeps an empty span and is never an answer.
    assert await versions_of(engine) == [(1.0, known(F3), known(F3)), (2.0, known(F3), None)]
    assert await answers(repo, around(F2, F3)) == {2.0}


async def test_a_changed_price_alone_is_a_new_version(engine: AsyncEngine) -> None:
    repo = PointRepository(engine)
    await repo.upsert([hour(0, 10.0, F1, price=3.5)])
    await repo.upsert([hour(0, 10.0, F3, price=4.0)])
    (now,) = await repo.range(DE_LU, "actual_load", T0, T0 + timedelta(hours=1))
    (then,) = await repo.range(DE_LU, "actual_load", T0, T0 + timedelta(hours=1), as_of=F2)
    assert (now.price, then.price) == (4.0, 3.5)
    assert await history_rows(engine) == 1


async def test_three_versions_each_read_back_at_its_time(engine: AsyncEngine) -> None:
    repo = PointRepository(engine)
    reads = SeriesReadRepository(engine)
    for value, fetched in ((1.0, F1), (2.0, F2), (3.0, F3)):
        await repo.upsert([hour(0, value, fetched)])
    for value, moment in ((1.0, F1 + timedelta(hours=1)), (2.0, F2 + timedelta(hours=1))):
        assert await values(repo, as_of=moment, hours=1) == [value]
        (series,) = await reads.series_in_range(DE_LU, "actual_load", T0, T0 + DAY, moment)
        page = await reads.page(series, T0, T0 + DAY, after=None, limit=10, as_of=moment)
        assert [row[1] for row in page] == [value]
        latest = await reads.latest(DE_LU, "actual_load", moment)
        assert latest is not None
        assert latest[2] == value
        (bucket,) = await reads.aggregate(series, [(T0, T0 + DAY)], moment)
        assert bucket.mean == value
    assert [v.value for v in await reads.versions(series, T0)] == [1.0, 2.0, 3.0]


async def test_points_overlapping_the_range_edges_belong_to_it(engine: AsyncEngine) -> None:
    repo = PointRepository(engine)
    day = T0.replace(hour=23) - DAY  # 2024-03-01 00:00 Europe/Berlin
    week_point = EnergyPoint(
        **{
            **hour(0, 7.0, F1)._asdict(),
            "data_type": "week_ahead_forecast",
            "resolution": "P1D",
            "timestamp": day,
            "end": day + DAY,
        }
    )
    await repo.upsert([week_point, hour(0, 1.0, F1), hour(1, 2.0, F1)])
    # Half an hour into the day point and into the first hour: both overlap.
    inside = T0 + timedelta(minutes=30)
    (found,) = await repo.range(DE_LU, "week_ahead_forecast", inside, inside + timedelta(hours=1))
    assert (found.timestamp, found.end) == (day, day + DAY)
    hours = await repo.range(DE_LU, "actual_load", inside, inside + timedelta(minutes=1))
    assert [p.value for p in hours] == [1.0]
    # Ending exactly at the range start is outside.
    assert await repo.range(DE_LU, "week_ahead_forecast", day + DAY, day + 2 * DAY) == []


# Four versions of one hour, fetched in an order unrelated to their version order:
# (value, revision, createdDateTime, fetch time). Version order: A < B < C < D.
VERSIONS = {
    "A": (10.0, 1, F1, F1 + timedelta(minutes=30)),
    "B": (20.0, 1, F1 + timedelta(minutes=5), F1 + timedelta(minutes=10)),
    "C": (30.0, 2, F1 + timedelta(minutes=1), F1 + timedelta(minutes=40)),
    "D": (40.0, 2, F1 + timedelta(minutes=2), F1 + timedelta(minutes=20)),
}


async def test_any_arrival_order_gives_a_backtester_a_consistent_past(
    engine: AsyncEngine,
) -> None:
    """Every order in which the four versions can be committed (one hour per order): the
    newest version is current; every version is listed; and for every instant the as-of answer
    is one value, fetched by then, never one that had lost on arrival, and never older in
    version order than an answer at an earlier instant (knowledge only improves)."""
    repo = PointRepository(engine)
    orders = list(permutations("ABCD"))
    for index, order in enumerate(orders):
        for name in order:
            value, revision, created, fetched = VERSIONS[name]
            await repo.upsert([hour(index, value, fetched, revision=revision, created=created)])
    rank = {VERSIONS[name][0]: position for position, name in enumerate("ABCD")}
    fetched_at = {VERSIONS[name][0]: VERSIONS[name][3] for name in "ABCD"}
    moments = sorted(set(around(*(v[3] for v in VERSIONS.values()))))
    hours = len(orders)
    current = await values(repo, hours=hours)
    assert current == [40.0] * hours
    reads = SeriesReadRepository(engine)
    (series,) = await reads.series_in_range(DE_LU, "actual_load", T0, T0 + DAY)
    for index, order in enumerate(orders):
        stored = await reads.versions(series, T0 + timedelta(hours=index))
        assert sorted(v.value for v in stored) == [10.0, 20.0, 30.0, 40.0], order
        lost = set()  # versions that arrived below the stored current one
        best: str | None = None
        for name in order:
            if best is not None and name < best:
                lost.add(VERSIONS[name][0])
            best = max(best or name, name)
        seen: list[float] = []
        for moment in moments:
            found = await repo.range(
                DE_LU,
                "actual_load",
                T0 + timedelta(hours=index),
                T0 + timedelta(hours=index + 1),
                as_of=moment,
            )
            assert len(found) <= 1, (order, moment)
            if not found:
                assert not seen, (order, moment)  # once known, a point stays known
                continue
            (answer,) = found
            assert fetched_at[answer.value] <= moment, (order, moment)  # no look-ahead
            assert answer.value not in lost, (order, moment)
            assert not seen or rank[answer.value] >= rank[seen[-1]], (order, moment)
            seen.append(answer.value)
        assert seen[-1] == 40.0, order
