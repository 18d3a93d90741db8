"""The bulk write paths against ``write_points_one_by_one``, on real recorded documents.

``PointRepository.upsert`` writes a batch in bulk: one ``executemany`` on SQLite; on
PostgreSQL a COPY straight into ``points`` when every point is new, else a COPY into a staging
table and one ``INSERT … ON CONFLICT``, then one statement for the versions that lost. The
reference reads every stored row, compares versions in Python and writes each point with
plain statements. Both run the same sequence of fetches into their own series (same
documents, the reference's under another area code) and must leave the same ``points`` and
``point_history`` rows, on both backends.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from energy_data_service.db.tables import fetches, point_history, points, series
from energy_data_service.domain import EnergyPoint
from energy_data_service.processors import process_documents
from energy_data_service.repositories.point_writes import write_points_one_by_one
from energy_data_service.repositories.points import PointRepository
from entsoe_client import parse_response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

SAMPLES = Path(__file__).resolve().parents[3] / "testdata" / "entsoe-samples"
LOAD = "EuropeanPowerSystems__ENTSOE.jl/test__cassettes__tut_load_actual_BE_week.yml.xml"
PRICES = "BerriJ__entsoe-apy/response.xml"  # DE_LU: two sequences, PT15M beside PT60M
WEEK_AHEAD = (
    "EuropeanPowerSystems__ENTSOE.jl/"
    "test__cassettes__load61_c_week_ahead_total_load_forecast.yml.xml"
)
F0 = datetime(2026, 11, 20, 9, 30, 0, 400_000, tzinfo=UTC)
HOUR = timedelta(hours=1)
REFERENCE = "-reference"
POINTS = 200


def recorded(
    name: str,
    fetched: datetime,
    *,
    revision: int | None = None,
    created: datetime | None = None,
    revise_every: int = 0,
    shift: timedelta = timedelta(0),
) -> list[EnergyPoint]:
    """The first ``POINTS`` points of a recorded document as fetched at ``fetched``; optionally
    another revision/createdDateTime, every ``revise_every``-th value changed, or moved in
    time. (The reference writes a point in three statements: a few days' worth keeps it quick.)"""
    found = process_documents(parse_response((SAMPLES / name).read_bytes()), fetched)  # type: ignore[arg-type]
    changed = []
    for index, point in enumerate(found[:POINTS]):
        point = point._replace(timestamp=point.timestamp + shift)
        if point.end is not None:
            point = point._replace(end=point.end + shift)
        if revision is not None:
            point = point._replace(revision_number=revision)
        if created is not None:
            point = point._replace(document_created_at=created)
        if revise_every and index % revise_every == 0:
            point = point._replace(value=point.value + 0.5)
        changed.append(point)
    return changed


SCENARIOS: dict[str, list[list[EnergyPoint]]] = {
    "new points": [recorded(LOAD, F0)],
    "the same document fetched again": [recorded(LOAD, F0), recorded(LOAD, F0 + HOUR)],
    "a higher revision changing every sixth value": [
        recorded(LOAD, F0),
        recorded(LOAD, F0 + HOUR, revision=2, revise_every=6),
    ],
    "an in-place correction at the same revision": [
        recorded(LOAD, F0, created=F0 - HOUR),
        recorded(LOAD, F0 + HOUR, created=F0, revise_every=4),
    ],
    "an older revision arriving after the newer, twice": [
        recorded(LOAD, F0 + HOUR, revision=2, revise_every=6),
        recorded(LOAD, F0, revision=1),
        recorded(LOAD, F0, revision=1),
    ],
    "a newer revision fetched before, stored after": [
        recorded(LOAD, F0 + 2 * HOUR),
        recorded(LOAD, F0 + HOUR, revision=2, revise_every=3),
    ],
    "an older revision over a longer span, a fresher one stored over half of it": [
        recorded(LOAD, F0 + HOUR, revision=2, revise_every=6)[: POINTS // 2],
        [p for index, p in enumerate(recorded(LOAD, F0, revision=1, revise_every=4)) if index % 5],
    ],
    "two documents in one batch, the newer first": [
        recorded(LOAD, F0 + HOUR, revision=2, revise_every=6) + recorded(LOAD, F0, revision=1)
    ],
    "a new week beside a stored one, then both revised": [
        recorded(LOAD, F0),
        recorded(LOAD, F0 + HOUR, shift=timedelta(days=7)),
        recorded(LOAD, F0 + 2 * HOUR, revise_every=5)
        + recorded(LOAD, F0 + 2 * HOUR, revise_every=5, shift=timedelta(days=7)),
    ],
    "prices of two sequences and resolutions, revised": [
        recorded(PRICES, F0),
        recorded(PRICES, F0 + HOUR, revise_every=7),
        recorded(PRICES, F0 - HOUR, revise_every=2),
    ],
    "day points of a week-ahead forecast, revised": [
        recorded(WEEK_AHEAD, F0),
        recorded(WEEK_AHEAD, F0 + HOUR, revision=3, revise_every=2),
    ],
}


def as_reference(batch: list[EnergyPoint]) -> list[EnergyPoint]:
    return [p._replace(area_code=p.area_code + REFERENCE) for p in batch]


async def stored(engine: AsyncEngine, reference: bool) -> tuple[list[Any], list[Any]]:
    """Every ``points`` and ``point_history`` row of one side, ids replaced by what they name."""
    s, f = series.c, fetches.c
    side = s.area_code.endswith(REFERENCE) if reference else ~s.area_code.endswith(REFERENCE)
    named = (s.data_type, s.business_type, s.resolution, s.classification_sequence)
    named += (f.document_mrid, f.revision_number, f.document_created_at, f.fetched_at)
    tables = []
    for table, extra in ((points, ()), (point_history, ("known_until",))):
        c = table.c
        query = (
            select(*named, c.timestamp, c.value, c.price, c.interval_end, c.known_from)
            .add_columns(*(c[e] for e in extra))
            .join_from(table, series, s.id == c.series_id)
            .join(fetches, f.id == c.fetch_id)
            .where(side)
        )
        async with engine.connect() as connection:
            tables.append(sorted(tuple(row) for row in await connection.execute(query)))
    return tables[0], tables[1]


@pytest.mark.parametrize("scenario", list(SCENARIOS))
async def test_bulk_writes_store_what_the_point_by_point_reference_stores(
    engine: AsyncEngine, scenario: str
) -> None:
    repository = PointRepository(engine)
    for batch in SCENARIOS[scenario]:
        await repository.upsert(batch)
        async with engine.begin() as connection:
            await write_points_one_by_one(connection, as_reference(batch))
    bulk_points, bulk_history = await stored(engine, reference=False)
    reference_points, reference_history = await stored(engine, reference=True)
    assert bulk_points == reference_points
    assert bulk_history == reference_history
    distinct = {
        (p.area_code, p.data_type, p.resolution, p.business_type, p.timestamp)
        for batch in SCENARIOS[scenario]
        for p in batch
    }
    assert len(bulk_points) == len(distinct) > 0
    if "revis" in scenario or "correction" in scenario:
        assert bulk_history, "a scenario with changed values must keep the old ones"


@pytest.mark.postgres
async def test_a_key_stored_meanwhile_sends_the_new_points_copy_to_the_merge(
    postgres_url: str,
) -> None:
    """Two writers store the same new week at once: the second one's check finds nothing (the
    first has not committed), its COPY waits on the first's keys and fails when it commits;
    the batch is then merged, and the newer fetch wins with the older value in history."""
    from energy_data_service.db.engine import create_engine
    from energy_data_service.db.migrate import upgrade

    engine = create_engine(postgres_url)
    try:
        await upgrade(engine)
        repository = PointRepository(engine)
        first = recorded(LOAD, F0)
        second = recorded(LOAD, F0 + HOUR, revise_every=6)
        async with engine.begin() as connection:
            await repository.upsert(first, connection)
            racing = asyncio.create_task(repository.upsert(second))
            await asyncio.sleep(1.0)
            assert not racing.done()  # its COPY waits on our uncommitted keys
        assert await racing == len(second)
        async with engine.begin() as connection:
            await write_points_one_by_one(connection, as_reference(first))
        async with engine.begin() as connection:
            await write_points_one_by_one(connection, as_reference(second))
        bulk = await stored(engine, reference=False)
        assert bulk == await stored(engine, reference=True)
        async with engine.connect() as connection:
            kept = await connection.scalar(select(func.count()).select_from(point_history))
        assert kept == 2 * len(range(0, len(second), 6))  # both sides keep the replaced sixth
    finally:
        await engine.dispose()
