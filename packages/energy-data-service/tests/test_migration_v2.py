"""The v1 → v2 migration on a v1 store of real recorded documents, on both backends.

The v1 store is made as the service of the previous release made it: migrations up to
``0003_monitoring`` and one ``energy_points`` row per (area, data type, start, business type,
resolution, sequence), holding the provenance of the document that brought it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from energy_data_service.db.engine import create_engine
from energy_data_service.db.migrate import upgrade
from energy_data_service.domain import area_time_zone, step_end
from energy_data_service.processors import process_documents
from energy_data_service.repositories.points import PointRepository
from energy_data_service.repositories.series_reads import SeriesReadRepository
from energy_data_service.testing import V1_COLUMNS, energy_points_v1, v1_row, v1_store
from entsoe_client import parse_response
from service_common import UtcDateTime
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    inspect,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncEngine

SAMPLES = Path(__file__).resolve().parents[3] / "testdata" / "entsoe-samples"
DOCUMENTS = (
    "EuropeanPowerSystems__ENTSOE.jl/test__cassettes__tut_load_actual_BE_week.yml.xml",
    "PJHerrijgers__entsoeAPI/data__day_ahead_prices.txt",
    "BerriJ__entsoe-apy/response.xml",
    "EuropeanPowerSystems__ENTSOE.jl/test__cassettes__load61_c_week_ahead_total_load_forecast.yml.xml",
    "EuropeanPowerSystems__ENTSOE.jl/test__cassettes__load81_year_ahead_forecast_margin.yml.xml",
)
FETCHED = datetime(2026, 11, 20, 9, 30, 0, 400_000, tzinfo=UTC)


def recorded_rows() -> list[dict[str, Any]]:
    """v1 rows of the recorded documents, each document fetched a minute after the last."""
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    for index, name in enumerate(DOCUMENTS):
        documents = parse_response((SAMPLES / name).read_bytes())
        fetched = FETCHED + timedelta(minutes=index)
        for point in process_documents(documents, fetched):  # type: ignore[arg-type]
            row = v1_row(point)
            key = tuple(row[c] for c in ("area_code", "data_type", "timestamp", "business_type"))
            rows[(*key, row["resolution"], row["classification_sequence"])] = row
    return list(rows.values())


def comparable(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(row[c] for c in V1_COLUMNS)


async def test_every_recorded_point_reads_back_the_same_after_migration(
    engine_v1: AsyncEngine,
) -> None:
    rows = recorded_rows()
    assert len(rows) > 9_000
    assert {r["data_type"] for r in rows} >= {"actual_load", "day_ahead_prices", "forecast_margin"}
    await v1_store(engine_v1, rows)
    await upgrade(engine_v1)

    async with engine_v1.connect() as connection:
        tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert "energy_points" not in tables
    repo = PointRepository(engine_v1)
    assert await repo.count() == len(rows)
    read: list[dict[str, Any]] = []
    for area_code, data_type in sorted({(r["area_code"], r["data_type"]) for r in rows}):
        window = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
        for point in await repo.range(area_code, data_type, *window):
            read.append(point._asdict())
            if point.resolution in ("P1D", "P1Y"):
                zone = area_time_zone(area_code)
                assert point.end == step_end(point.timestamp, point.resolution, zone)
    assert sorted(map(comparable, read)) == sorted(map(comparable, rows))

    # Each value is its first known version, known from its fetch (rounded up to the second).
    reads = SeriesReadRepository(engine_v1)
    price = next(r for r in rows if r["data_type"] == "day_ahead_prices")
    series = await reads.series_in_range(
        price["area_code"],
        "day_ahead_prices",
        price["timestamp"],
        price["timestamp"] + timedelta(hours=1),
    )
    (version,) = await reads.versions(series[0], price["timestamp"])
    assert version.known_until is None
    assert version.known_from == price["fetched_at"].replace(microsecond=0) + timedelta(seconds=1)
    before = await repo.range(
        price["area_code"],
        "day_ahead_prices",
        price["timestamp"],
        price["timestamp"] + timedelta(hours=1),
        as_of=price["fetched_at"],
    )
    assert before == []


async def test_an_interrupted_migration_loses_nothing(
    engine_v1: AsyncEngine, tmp_path: Path
) -> None:
    rows = recorded_rows()[:500]
    await v1_store(engine_v1, rows)
    async with engine_v1.begin() as connection:  # a table in the way: the migration fails
        await connection.execute(text("CREATE TABLE point_history (x INTEGER)"))
    with pytest.raises(Exception, match="point_history"):
        await upgrade(engine_v1)
    async with engine_v1.connect() as connection:
        version = await connection.scalar(text("SELECT version_num FROM alembic_version"))
        kept = (await connection.execute(select(energy_points_v1))).mappings().all()
        tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert version == "0003_monitoring"
    assert sorted(map(comparable, kept)) == sorted(map(comparable, rows))
    assert "series" not in tables  # the whole migration rolled back, DDL included
    if engine_v1.dialect.name == "sqlite":
        database = Path(engine_v1.url.database or "")
        copy = database.with_name(database.name + ".pre-migration")
        assert copy.exists()  # kept until a migration succeeds
        async with engine_v1.begin() as connection:
            await connection.execute(text("DROP TABLE point_history"))
        await upgrade(engine_v1)
        assert not copy.exists()
        assert await PointRepository(engine_v1).count() == len(rows)


@pytest.fixture
async def engine_v1(database_url: str) -> Any:
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


series_0005 = Table(
    "series",
    MetaData(),
    Column("id", Integer, primary_key=True),
    *(
        Column(name, Integer if name == "classification_sequence" else String)
        for name in (
            "area_code",
            "data_type",
            "out_area_code",
            "psr_type",
            "business_type",
            "resolution",
            "classification_sequence",
            "registered_resource",
            "unit",
            "curve_type",
        )
    ),
    *(
        Column(name, UtcDateTime)
        for name in ("first_timestamp", "last_timestamp", "first_fetched_at", "last_fetched_at")
    ),
)
"""``series`` as 0004–0006 made it (before 0007 added contract type, direction, category)."""


async def store_0005(engine: AsyncEngine, week: list[Any], *, changed_every: int) -> None:
    """What a 0005 service stored for one series fetched twice, the second fetch an hour later
    changing every ``changed_every``-th value: written with SQL of that schema (today's writer
    knows only today's), so 0005's history trigger records the replaced values."""
    from energy_data_service.db.tables import EpochSeconds, fetches, points

    first = week[0]
    later = FETCHED + timedelta(hours=1)
    async with engine.begin() as connection:
        fetch_ids = []
        for fetched in (FETCHED, later):
            result = await connection.execute(
                fetches.insert().returning(fetches.c.id),
                {
                    "document_mrid": first.document_mrid,
                    "revision_number": first.revision_number,
                    "document_created_at": first.document_created_at,
                    "fetched_at": fetched,
                },
            )
            fetch_ids.append(result.scalar_one())
        names = [column.name for column in series_0005.columns]
        identity = {c: getattr(first, c) for c in names if hasattr(first, c)}
        series_id = (
            await connection.execute(
                series_0005.insert().returning(series_0005.c.id),
                {
                    **identity,
                    "first_timestamp": week[0].timestamp,
                    "last_timestamp": week[-1].timestamp,
                    "first_fetched_at": FETCHED,
                    "last_fetched_at": later,
                },
            )
        ).scalar_one()
        known = FETCHED.replace(microsecond=0) + timedelta(seconds=1)
        await connection.execute(
            points.insert(),
            [
                {
                    "series_id": series_id,
                    "timestamp": p.timestamp,
                    "value": p.value,
                    "price": None,
                    "interval_end": None,
                    "fetch_id": fetch_ids[0],
                    "known_from": known,
                }
                for p in week
            ],
        )
        # the second fetch states every value: the unchanged ones keep their known_from
        await connection.execute(
            points.update().where(points.c.series_id == series_id).values(fetch_id=fetch_ids[1])
        )
        changed = [p.timestamp for i, p in enumerate(week) if i % changed_every == 0]
        stamp = bindparam("ts", type_=EpochSeconds)
        await connection.execute(
            points.update()
            .where(points.c.series_id == series_id, points.c.timestamp == stamp)
            .values(
                value=points.c.value + 1,
                fetch_id=fetch_ids[1],
                known_from=later.replace(microsecond=0) + timedelta(seconds=1),
            ),
            [{"ts": moment} for moment in changed],
        )


async def test_history_keyed_by_fetch_keeps_every_row_and_then_superseded_values(
    engine_v1: AsyncEngine,
) -> None:
    """0006 rebuilds ``point_history`` with the fetch in its key: the history written under
    0005 (a revision of a recorded week) comes through unchanged, and the new trigger then
    also keeps a value whose successor was fetched before it, beside that successor's span."""
    from energy_data_service.db.tables import point_history

    await upgrade(engine_v1, "0005_job_leases")
    week = process_documents(  # type: ignore[arg-type]
        parse_response((SAMPLES / DOCUMENTS[0]).read_bytes()), FETCHED
    )
    await store_0005(engine_v1, week, changed_every=6)
    repo = PointRepository(engine_v1)
    history = select(point_history).order_by(*point_history.primary_key.columns)
    async with engine_v1.connect() as connection:
        before = (await connection.execute(history)).all()
    assert len(before) == len(range(0, len(week), 6))
    await upgrade(engine_v1)
    async with engine_v1.connect() as connection:
        assert (await connection.execute(history)).all() == before
        key = await connection.run_sync(
            lambda sync: inspect(sync).get_pk_constraint("point_history")["constrained_columns"]
        )
    assert key == ["series_id", "timestamp", "known_from", "fetch_id"]
    # A third version, fetched before the second but stored after it (a higher revision):
    # it wins everywhere. A value the second changed was learned after the third had been
    # fetched: kept with an empty span sharing its successor's known_from. A value the second
    # only repeated had been known since the first fetch: a real span up to the third's.
    third = [
        p._replace(revision_number=2, fetched_at=FETCHED + timedelta(minutes=30), value=p.value + 5)
        for p in week
    ]
    await repo.upsert(third)
    async with engine_v1.connect() as connection:
        after = (await connection.execute(history)).all()
    empty = [row for row in after if row.known_until == row.known_from]
    assert len(after) == len(before) + len(week)
    assert len(empty) == len(before)
