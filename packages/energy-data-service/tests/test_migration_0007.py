"""0006 → 0007 on a store of real recorded documents, on SQLite and PostgreSQL.

The 0006 store is written as the previous release wrote it: the series' identity without the
new columns, the balancing direction in the resource slot (``direction:A01``), exchanges and
transfer capacities of every horizon under one series. After the migration every point is read
back under its series, directions are a column of their own, and horizons of one border are
stored apart.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from energy_data_service.db.engine import create_engine
from energy_data_service.db.migrate import alembic_config, upgrade
from energy_data_service.db.tables import epoch_seconds
from energy_data_service.domain import EnergyPoint
from energy_data_service.processors import process_documents
from energy_data_service.repositories.catalogue import find_series
from energy_data_service.repositories.points import PointRepository
from entsoe_client import parse_response
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

SAMPLES = (
    Path(__file__).resolve().parents[3] / "testdata" / "entsoe-samples" / "EnergieID__entsoe-py"
)
FETCHED = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
OLD_IDENTITY = (
    "area_code",
    "data_type",
    "out_area_code",
    "psr_type",
    "business_type",
    "resolution",
    "classification_sequence",
    "registered_resource",
)
WINDOW = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))


def recorded(name: str) -> list[EnergyPoint]:
    return process_documents(parse_response((SAMPLES / name).read_bytes()), FETCHED)  # type: ignore[arg-type]


def as_0006(point: EnergyPoint) -> dict[str, Any]:
    """The series columns 0006 stored for a point: the direction in the resource slot."""
    row = {name: getattr(point, name) for name in OLD_IDENTITY}
    if point.flow_direction:
        row["registered_resource"] = f"direction:{point.flow_direction}"
    return row


async def store_0006(engine: AsyncEngine, stored: list[EnergyPoint]) -> dict[tuple[Any, ...], int]:
    """Write ``stored`` as a 0006 service did: one series per old identity, the last point of
    each (series, start) winning. Returns the series ids by old identity."""
    await upgrade(engine, "0006_history_keys")
    ids: dict[tuple[Any, ...], int] = {}
    async with engine.begin() as connection:
        fetch_id = (
            await connection.execute(
                text(
                    "INSERT INTO fetches (document_mrid, revision_number, fetched_at)"
                    " VALUES ('recorded', 1, :at) RETURNING id"
                ),
                {"at": FETCHED if engine.dialect.name == "postgresql" else "2026-11-20 09:30:00"},
            )
        ).scalar_one()
        at: Any = FETCHED if engine.dialect.name == "postgresql" else epoch_seconds(FETCHED)
        for point in stored:
            row = as_0006(point)
            key = tuple(row.values())
            if key not in ids:
                ids[key] = (
                    await connection.execute(
                        text(
                            f"INSERT INTO series ({', '.join(row)}, unit, curve_type,"
                            " first_timestamp, last_timestamp, first_fetched_at, last_fetched_at)"
                            f" VALUES ({', '.join(':' + c for c in row)}, :unit, 'A01',"
                            " :at, :at, :at, :at) RETURNING id"
                        ),
                        {
                            **row,
                            "unit": point.unit,
                            "at": FETCHED
                            if engine.dialect.name == "postgresql"
                            else "2026-11-20 09:30:00",
                        },
                    )
                ).scalar_one()
            start: Any = (
                point.timestamp
                if engine.dialect.name == "postgresql"
                else epoch_seconds(point.timestamp)
            )
            end: Any = None
            if point.end is not None:
                end = point.end if engine.dialect.name == "postgresql" else epoch_seconds(point.end)
            await connection.execute(
                text(
                    'INSERT INTO points (series_id, "timestamp", value, price, interval_end,'
                    " fetch_id, known_from) VALUES (:sid, :ts, :value, :price, :end, :fid, :at)"
                    ' ON CONFLICT (series_id, "timestamp") DO UPDATE SET value = excluded.value'
                ),
                {
                    "sid": ids[key],
                    "ts": start,
                    "value": point.value,
                    "price": point.price,
                    "end": end,
                    "fid": fetch_id,
                    "at": at,
                },
            )
    return ids


@pytest.fixture
async def engine_0006(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


async def test_directions_move_to_their_column_and_every_point_stays(
    engine_0006: AsyncEngine,
) -> None:
    reserves = recorded("query_contracted_reserve_prices.xml")
    assert {p.flow_direction for p in reserves} == {"A01", "A02", "A03"}
    ids = await store_0006(engine_0006, reserves)
    await upgrade(engine_0006)

    async with engine_0006.connect() as connection:
        columns = await connection.run_sync(
            lambda c: {col["name"] for col in inspect(c).get_columns("series")}
        )
        catalogue = await find_series(connection, data_type="contracted_reserve_prices")
    assert {"contract_type", "flow_direction", "price_category"} <= columns
    assert {row.id for row in catalogue} == set(ids.values())  # same ids: points still point
    assert all(row.registered_resource == "" for row in catalogue)
    assert {row.flow_direction for row in catalogue} == {"A01", "A02", "A03"}

    repo = PointRepository(engine_0006)
    read = await repo.range(reserves[0].area_code, "contracted_reserve_prices", *WINDOW)

    def key(p: EnergyPoint) -> tuple[Any, ...]:
        return (p.business_type, p.flow_direction, p.timestamp, p.value, p.registered_resource)

    assert sorted(map(key, read)) == sorted(map(key, reserves))
    # A new fetch of the same documents lands in the migrated series, not beside them.
    await repo.upsert(reserves)
    async with engine_0006.connect() as connection:
        again = await find_series(connection, data_type="contracted_reserve_prices")
    assert {row.id for row in again} == set(ids.values()), again


async def test_horizons_of_one_border_are_two_series_after_the_migration(
    engine_0006: AsyncEngine,
) -> None:
    day_ahead = recorded("query_net_transfer_capacity_dayahead.xml")
    exchanges = recorded("query_scheduled_exchanges.xml")
    ids = await store_0006(engine_0006, day_ahead + exchanges)
    await upgrade(engine_0006)

    async with engine_0006.connect() as connection:
        (ntc,) = await find_series(connection, data_type="net_transfer_capacity")
        (total,) = await find_series(connection, data_type="scheduled_exchanges")
    # stored before 0007 = as the collector asked: day-ahead capacities, total exchanges
    assert (ntc.contract_type, total.contract_type) == ("A01", "A05")
    assert {ntc.id, total.id} == set(ids.values())

    repo = PointRepository(engine_0006)
    await repo.upsert(day_ahead)  # the same document again: the same series
    week = recorded("query_net_transfer_capacity_weekahead.xml")
    month = recorded("query_net_transfer_capacity_monthahead.xml")
    year = recorded("query_net_transfer_capacity_yearahead.xml")
    await repo.upsert(week + month + year)
    async with engine_0006.connect() as connection:
        horizons = {
            row.contract_type: row
            for row in await find_series(connection, data_type="net_transfer_capacity")
        }
    assert set(horizons) == {"A01", "A02", "A03", "A04"}
    assert horizons["A01"].id == ntc.id
    # week and month ahead cover the same October days at P1D: both kept, neither overwritten
    area, out_area = week[0].area_code, week[0].out_area_code
    for contract, source in (("A02", week), ("A03", month), ("A04", year), ("A01", day_ahead)):
        read = [
            p
            for p in await repo.range(area, "net_transfer_capacity", *WINDOW)
            if p.contract_type == contract
        ]
        assert [(p.timestamp, p.value) for p in read] == [(p.timestamp, p.value) for p in source], (
            contract
        )
        assert {p.out_area_code for p in read} == {out_area}
    assert week[0].timestamp - month[0].timestamp == timedelta(days=11)


async def test_downgrade_puts_the_direction_back_in_the_resource_slot(
    engine_0006: AsyncEngine,
) -> None:
    reserves = recorded("query_contracted_reserve_prices.xml")
    await store_0006(engine_0006, reserves)
    await upgrade(engine_0006)
    count = await PointRepository(engine_0006).count()

    url = engine_0006.url.render_as_string(hide_password=False)

    def downgrade(connection: Connection) -> None:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        command.downgrade(config, "0006_history_keys")

    async with engine_0006.begin() as connection:
        await connection.run_sync(downgrade)
    async with engine_0006.connect() as connection:
        resources = {
            row[0]
            for row in await connection.execute(text("SELECT registered_resource FROM series"))
        }
        (stored,) = (await connection.execute(text("SELECT count(*) FROM points"))).one()
    assert resources == {"direction:A01", "direction:A02", "direction:A03"}
    assert stored == count


async def test_0008_keeps_backfill_progress_and_plans_borders_apart(
    engine_0006: AsyncEngine,
) -> None:
    """A 0007 store's job and chunk survive 0008 as one-area progress ('' out area); after it
    two borders into one area plan the same chunk twice, apart."""
    from energy_data_service.repositories.backfill import BackfillRepository

    await upgrade(engine_0006, "0007_series_qualifiers")
    start, end = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 2, 1, tzinfo=UTC)
    now: Any = FETCHED if engine_0006.dialect.name == "postgresql" else "2026-11-20 09:30:00"
    bound: dict[str, Any] = {"now": now}
    for name, moment in (("start", start), ("end", end)):
        bound[name] = (
            moment if engine_0006.dialect.name == "postgresql" else f"{moment:%Y-%m-%d %H:%M:%S.%f}"
        )
    async with engine_0006.begin() as connection:
        job_id = (
            await connection.execute(
                text(
                    'INSERT INTO backfill_jobs (areas, data_types, start, "end", status,'
                    " created_at, cancelled) VALUES ('[\"10YFR-RTE------C\"]',"
                    " '[\"actual_load\"]', :start, :end, 'done', :now, false) RETURNING id"
                ),
                bound,
            )
        ).scalar_one()
        await connection.execute(
            text(
                "INSERT INTO backfill_progress (job_id, area_code, data_type, chunk_start,"
                " chunk_end, status, points, attempts, updated_at) VALUES (:job,"
                " '10YFR-RTE------C', 'physical_flows', :start, :end, 'done', 744, 1, :now)"
            ),
            {**bound, "job": job_id},
        )
    await upgrade(engine_0006)

    repo = BackfillRepository(engine_0006)
    job = await repo.get_job(job_id)
    assert job is not None
    assert job.borders is None
    (kept,) = await repo.plan_chunks(
        job_id, "10YFR-RTE------C", "physical_flows", [(start, end)], resume=True
    )
    assert (kept.out_area_code, kept.status, kept.points) == ("", "done", 744)
    for source in ("10Y1001A1001A82H", "10YBE----------2"):
        (planned,) = await repo.plan_chunks(
            job_id,
            "10YFR-RTE------C",
            "physical_flows",
            [(start, end)],
            resume=True,
            out_area_code=source,
        )
        assert (planned.out_area_code, planned.status) == (source, "pending")
    async with engine_0006.connect() as connection:
        (rows,) = (await connection.execute(text("SELECT count(*) FROM backfill_progress"))).one()
    assert rows == 3
