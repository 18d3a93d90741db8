"""0008 → 0009 (daily quality scores per series) on a store of real recorded documents, on
SQLite and PostgreSQL, and back.

The 0008 store holds BE actual load (one series under its score key) and BE installed capacity
per production type (twelve series under one score key, so its 0008 row is their sum), written
with the current point writer (``series`` is the same at 0008), and three 0008 score rows
written with that schema's SQL: one that matches one series, one that matches twelve, one that
matches none.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from energy_data_service.db.engine import create_engine
from energy_data_service.db.migrate import alembic_config, upgrade
from energy_data_service.processors import process_documents
from energy_data_service.repositories.points import PointRepository
from energy_data_service.repositories.quality import QualityRepository, StoredScore
from entsoe_client import parse_response
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

SAMPLES = (
    Path(__file__).resolve().parents[3] / "testdata" / "entsoe-samples" / "EnergieID__entsoe-py"
)
FETCHED = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
DAY = date(2020, 10, 17)
BE = "10YBE----------2"
KEY = ("area_code", "data_type", "business_type", "resolution", "classification_sequence")
OLD_COLUMNS = (
    *KEY,
    "day",
    "score",
    "expected",
    "present",
    "missing",
    "invalid",
    "outliers",
    "flat_points",
    "revised_share",
    "forecast_mape",
    "computed_at",
)


@pytest.fixture
async def engine_0008(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


def _day(engine: AsyncEngine, day: date) -> Any:
    return day if engine.dialect.name == "postgresql" else day.isoformat()


def _moment(engine: AsyncEngine) -> Any:
    return FETCHED if engine.dialect.name == "postgresql" else "2026-11-20 09:30:00"


async def store_0008(engine: AsyncEngine) -> dict[str, tuple[Any, ...]]:
    """The recorded load and capacities, and three 0008 score rows; returns their keys."""
    await upgrade(engine, "0008_backfill_borders")
    for name in ("query_load.xml", "query_installed_generation_capacity.xml"):
        documents = parse_response((SAMPLES / name).read_bytes())
        await PointRepository(engine).upsert(process_documents(documents, FETCHED))  # type: ignore[arg-type]
    keys: dict[str, tuple[Any, ...]] = {}
    async with engine.begin() as connection:
        for data_type in ("actual_load", "installed_capacity"):
            rows = (
                await connection.execute(
                    text(f"SELECT DISTINCT {', '.join(KEY)} FROM series WHERE data_type = :t"),
                    {"t": data_type},
                )
            ).all()
            (keys[data_type],) = [tuple(r) for r in rows]
        keys["unknown"] = ("10YFR-RTE------C", "day_ahead_prices", "A62", "PT60M", 1)
        figures = {
            "actual_load": (97.5, 96, 95, 1, 0, 2, 0, 0.25, None),
            "installed_capacity": (60.0, 12, 12, 0, 3, 0, 0, 0.0, None),
            "unknown": (88.0, 24, 23, 1, 0, 0, 0, 0.5, 4.5),
        }
        for name, key in keys.items():
            await connection.execute(
                text(
                    f"INSERT INTO quality_scores ({', '.join(OLD_COLUMNS)})"
                    f" VALUES ({', '.join(':' + c for c in OLD_COLUMNS)})"
                ),
                dict(
                    zip(
                        OLD_COLUMNS,
                        (*key, _day(engine, DAY), *figures[name], _moment(engine)),
                        strict=True,
                    )
                ),
            )
    return keys


def _downgrade(engine: AsyncEngine, revision: str) -> Any:
    url = engine.url.render_as_string(hide_password=False)

    def run(connection: Connection) -> None:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

    return run


async def test_scores_move_to_their_series_and_the_ambiguous_ones_are_kept(
    engine_0008: AsyncEngine,
) -> None:
    keys = await store_0008(engine_0008)
    await upgrade(engine_0008)

    async with engine_0008.connect() as connection:
        (load_id,) = (
            await connection.execute(text("SELECT id FROM series WHERE data_type = 'actual_load'"))
        ).one()
        moved = (
            await connection.execute(text("SELECT series_id, score FROM quality_scores"))
        ).all()
        kept = (
            await connection.execute(
                text(
                    f"SELECT {', '.join(KEY)}, score, present FROM quality_scores_by_key"
                    " ORDER BY data_type"
                )
            )
        ).all()
        columns = await connection.run_sync(
            lambda sync: {c["name"] for c in inspect(sync).get_columns("quality_scores")}
        )
    assert [tuple(r) for r in moved] == [(load_id, 97.5)]
    assert [tuple(r) for r in kept] == [
        (*keys["unknown"], 88.0, 23),  # no series of that key
        (*keys["installed_capacity"], 60.0, 12),  # twelve production types summed: not split
    ]
    assert "series_id" in columns
    assert "psr_type" not in columns  # the identity is read from the series catalogue

    repo = QualityRepository(engine_0008)
    (load,) = await repo.scores(DAY, DAY)
    assert (load.series_id, load.area_code, load.data_type, load.score, load.missing) == (
        load_id,
        BE,
        "actual_load",
        97.5,
        1,
    )
    assert (load.revised_share, load.forecast_mape) == (0.25, None)
    assert (await repo.latest()) == [load]


async def test_every_production_type_keeps_its_own_score_after_0009(
    engine_0008: AsyncEngine,
) -> None:
    await store_0008(engine_0008)
    await upgrade(engine_0008)
    repo = QualityRepository(engine_0008)
    capacities = await repo.observations(
        BE, "installed_capacity", datetime(2020, 1, 1, tzinfo=UTC), datetime(2021, 1, 1, tzinfo=UTC)
    )
    assert len(capacities) == 12
    scores = [_score(series, 100.0 - i) for i, series in enumerate(sorted(capacities))]
    await repo.save(scores)
    await repo.save(scores[:1])  # same series and day: replaced, not doubled
    stored = await repo.scores(DAY, DAY, BE, "installed_capacity")
    assert sorted((s.psr_type, s.score) for s in stored) == sorted(
        (s.psr_type, s.score) for s in scores
    )
    assert len({s.series_id for s in stored}) == 12


def _score(series: Any, score: float) -> StoredScore:
    return StoredScore(
        series_id=series.series_id,
        area_code=series.area_code,
        data_type=series.data_type,
        business_type=series.business_type,
        resolution=series.resolution,
        classification_sequence=series.classification_sequence,
        out_area_code=series.out_area_code,
        psr_type=series.psr_type,
        contract_type=series.contract_type,
        flow_direction=series.flow_direction,
        price_category=series.price_category,
        registered_resource=series.registered_resource,
        day=DAY,
        score=score,
        expected=1,
        present=1,
        missing=0,
        invalid=0,
        outliers=0,
        flat_points=0,
        revised_share=0.5,
        forecast_mape=None,
        computed_at=FETCHED,
    )


async def test_downgrade_sums_series_back_per_key_and_restores_the_kept_rows(
    engine_0008: AsyncEngine,
) -> None:
    keys = await store_0008(engine_0008)
    await upgrade(engine_0008)
    repo = QualityRepository(engine_0008)
    capacities = await repo.observations(
        BE, "installed_capacity", datetime(2020, 1, 1, tzinfo=UTC), datetime(2021, 1, 1, tzinfo=UTC)
    )
    # The day's per-series capacity scores replace the kept 0008 sum of the same key and day.
    await repo.save([_score(series, 90.0 + i) for i, series in enumerate(sorted(capacities))])

    async with engine_0008.begin() as connection:
        await connection.run_sync(_downgrade(engine_0008, "0008_backfill_borders"))
    async with engine_0008.connect() as connection:
        rows = (
            await connection.execute(
                text(
                    f"SELECT {', '.join(KEY)}, score, expected, present, revised_share"
                    " FROM quality_scores ORDER BY data_type"
                )
            )
        ).all()
        tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    assert [tuple(r) for r in rows] == [
        (*keys["actual_load"], 97.5, 96, 95, 0.25),
        (*keys["unknown"], 88.0, 24, 23, 0.5),
        (*keys["installed_capacity"], 90.0, 12, 12, 0.5),  # worst of 12, counts summed
    ]
    assert "quality_scores_by_key" not in tables

    await upgrade(engine_0008)  # and up again: the load's row finds its series once more
    (load,) = [s for s in await repo.scores(DAY, DAY) if s.data_type == "actual_load"]
    assert load.score == 97.5
