"""Storage on both backends: migrations, revision-aware upsert, keys, reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from energy_data_service.db.migrate import enable_timescaledb, upgrade
from energy_data_service.domain import EnergyPoint
from energy_data_service.repositories.backfill import BackfillRepository
from energy_data_service.repositories.points import PointRepository
from energy_data_service.repositories.runs import CollectionRun, RunRepository
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

DE_LU = "10Y1001A1001A82H"
T0 = datetime(2024, 3, 1, tzinfo=UTC)
FETCHED = datetime(2024, 3, 5, 12, tzinfo=UTC)


def point(
    minutes: int,
    value: float,
    *,
    revision: int = 1,
    resolution: str = "PT60M",
    sequence: int = 0,
    data_type: str = "actual_load",
) -> EnergyPoint:
    return EnergyPoint(
        area_code=DE_LU,
        data_type=data_type,
        business_type="A04",
        resolution=resolution,
        classification_sequence=sequence,
        timestamp=T0 + timedelta(minutes=minutes),
        value=value,
        unit="MAW",
        curve_type="A01",
        document_mrid=f"doc-r{revision}",
        revision_number=revision,
        document_created_at=T0,
        fetched_at=FETCHED,
    )


async def test_migrations_create_every_table_and_are_idempotent(engine: AsyncEngine) -> None:
    await upgrade(engine)  # second run: nothing to do, no error
    async with engine.connect() as connection:
        tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
        version = await connection.scalar(text("SELECT version_num FROM alembic_version"))
    assert {"series", "fetches", "points", "point_history", "backfill_jobs"} <= tables
    assert "energy_points" not in tables
    assert version is not None


async def test_timescaledb_absent_leaves_plain_tables_working(engine: AsyncEngine) -> None:
    if engine.dialect.name != "postgresql":
        return
    assert await enable_timescaledb(engine) is False
    await PointRepository(engine).upsert([point(0, 1.0)])
    assert await PointRepository(engine).count() == 1


async def test_newer_revision_replaces_older(engine: AsyncEngine) -> None:
    repo = PointRepository(engine)
    await repo.upsert([point(0, 1.0, revision=1), point(60, 2.0, revision=1)])
    await repo.upsert([point(0, 10.0, revision=2)])
    stored = await repo.range(DE_LU, "actual_load", T0, T0 + timedelta(hours=2))
    assert [(p.value, p.revision_number) for p in stored] == [(10.0, 2), (2.0, 1)]
    assert stored[0].document_mrid == "doc-r2"


async def test_older_revision_never_overwrites_newer(engine: AsyncEngine) -> None:
    repo = PointRepository(engine)
    await repo.upsert([point(0, 10.0, revision=2)])
    await repo.upsert([point(0, 1.0, revision=1)])
    stored = await repo.range(DE_LU, "actual_load", T0, T0 + timedelta(hours=1))
    assert [(p.value, p.revision_number) for p in stored] == [(10.0, 2)]


async def test_equal_revision_replaces(engine: AsyncEngine) -> None:
    repo = PointRepository(engine)
    await repo.upsert([point(0, 1.0)])
    await repo.upsert([point(0, 1.5)])
    stored = await repo.range(DE_LU, "actual_load", T0, T0 + timedelta(hours=1))
    assert [p.value for p in stored] == [1.5]


async def test_duplicates_in_one_batch_keep_the_newest_revision(engine: AsyncEngine) -> None:
    repo = PointRepository(engine)
    await repo.upsert([point(0, 2.0, revision=2), point(0, 1.0, revision=1)])
    stored = await repo.range(DE_LU, "actual_load", T0, T0 + timedelta(hours=1))
    assert [p.value for p in stored] == [2.0]


async def test_duplicates_with_equal_revision_keep_the_later(engine: AsyncEngine) -> None:
    repo = PointRepository(engine)
    await repo.upsert([point(0, 1.0), point(60, 7.0), point(0, 5.0)])
    stored = await repo.range(DE_LU, "actual_load", T0, T0 + timedelta(hours=2))
    assert [p.value for p in stored] == [5.0, 7.0]


async def test_resolutions_and_sequences_never_overwrite_each_other(engine: AsyncEngine) -> None:
    repo = PointRepository(engine)
    hourly = [point(0, 50.0, resolution="PT60M")]
    quarter = [point(m, 40.0 + m, resolution="PT15M") for m in (0, 15, 30, 45)]
    second_sequence = [point(0, 99.0, resolution="PT60M", sequence=2)]
    await repo.upsert(hourly + quarter + second_sequence)
    stored = await repo.range(DE_LU, "actual_load", T0, T0 + timedelta(hours=1))
    assert len(stored) == 6
    assert {(p.resolution, p.classification_sequence, p.value) for p in stored} >= {
        ("PT60M", 0, 50.0),
        ("PT15M", 0, 40.0),
        ("PT60M", 2, 99.0),
    }


async def test_reads_return_aware_utc_and_stream_in_batches(engine: AsyncEngine) -> None:
    repo = PointRepository(engine)
    await repo.upsert([point(15 * i, float(i), resolution="PT15M") for i in range(96)])
    latest = await repo.latest(DE_LU, "actual_load")
    assert latest is not None
    assert latest.timestamp == T0 + timedelta(minutes=15 * 95)
    assert latest.timestamp.tzinfo is not None
    assert latest.fetched_at == FETCHED
    batches = [
        b
        async for b in repo.iter_range(
            DE_LU, "actual_load", T0, T0 + timedelta(days=1), batch_size=40
        )
    ]
    assert [len(b) for b in batches] == [40, 40, 16]
    assert [p.value for b in batches for p in b] == [float(i) for i in range(96)]
    (bounds,) = await repo.series_bounds(DE_LU, "actual_load")
    assert (bounds.first, bounds.last, bounds.points) == (
        T0,
        T0 + timedelta(minutes=15 * 95),
        96,
    )
    present = await repo.present_intervals(
        DE_LU, "actual_load", T0 + timedelta(hours=1), T0 + timedelta(hours=2)
    )
    assert present == [(T0 + timedelta(minutes=60 + 15 * i), "PT15M") for i in range(4)]


async def test_runs_and_backfill_progress_round_trip(engine: AsyncEngine) -> None:
    runs = RunRepository(engine)
    run = CollectionRun(
        run_kind="collect",
        area_code=DE_LU,
        data_type="actual_load",
        window_start=T0,
        window_end=T0 + timedelta(days=1),
        started_at=FETCHED,
        finished_at=FETCHED + timedelta(seconds=2),
        points=96,
        success=False,
        error_class="ServerError",
        error_text="503",
        platform_response_ms=12.5,
        processing_ms=3.0,
    )
    await runs.record(run)
    assert await runs.recent() == [run]

    backfills = BackfillRepository(engine)
    job = await backfills.create_job([DE_LU], ["actual_load"], T0, T0 + timedelta(days=60))
    chunks = [(T0, T0 + timedelta(days=31)), (T0 + timedelta(days=31), T0 + timedelta(days=60))]
    planned = await backfills.plan_chunks(job, DE_LU, "actual_load", chunks, resume=True)
    assert [(c.chunk_start, c.chunk_end, c.status) for c in planned] == [
        (s, e, "pending") for s, e in chunks
    ]
    async with engine.begin() as connection:
        await backfills.mark_done(planned[0].id, 744, connection)
    await backfills.mark_failed(planned[1].id, "boom")
    again = await backfills.plan_chunks(job, DE_LU, "actual_load", chunks, resume=True)
    assert [c.status for c in again] == ["done", "failed"]
    reset = await backfills.plan_chunks(job, DE_LU, "actual_load", chunks, resume=False)
    assert [c.status for c in reset] == ["pending", "pending"]
    assert await backfills.cancel_job(job) is True
    assert await backfills.is_cancelled(job) is True
    await backfills.finish_job(job, "cancelled")
    (listed,) = await backfills.list_jobs()
    assert (listed.status, listed.areas, listed.start) == ("cancelled", [DE_LU], T0)
