"""Ingest benchmark of the energy data service: storage and an end-to-end backfill.

Side by side in one run, each case warmed up once (not counted), then repeated; medians
reported with the range, since the machine is shared (compare rows of one run, not runs):

- PostgreSQL: plain COPY into ``energy_points`` (the baseline) vs the revision-aware upsert
  (COPY into a staging table + one INSERT … ON CONFLICT … WHERE), into an empty table and
  over existing rows. Goal: upsert ≥ 50% of COPY.
- SQLite: the revision-aware upsert (one executemany in one transaction). Goal ≥ 100k rows/s.
- Backfill of one year of DE_LU actual load (35,040 PT15M points) against the local platform
  stand-in with pacing off, on SQLite, end to end (HTTP, parse, process, store, progress).
  Goal ≥ 50k points/s.

Needs PostgreSQL on 127.0.0.1:5432 (user postgres); run with `uv run python bench/ingest.py`.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from energy_data_service.collectors.entsoe_collector import EntsoeCollector
from energy_data_service.db.engine import create_engine
from energy_data_service.db.migrate import upgrade
from energy_data_service.domain import POINT_COLUMNS, EnergyPoint
from energy_data_service.repositories.backfill import BackfillRepository
from energy_data_service.repositories.points import PointRepository
from energy_data_service.repositories.runs import RunRepository
from energy_data_service.services.backfill_service import BackfillService
from energy_data_service.settings import CollectionSettings
from entsoe_client.areas import Area
from entsoe_client.client import EntsoeClient
from sqlalchemy import text

ROWS = 100_000
REPEATS = 5
BACKFILL_REPEATS = 5
PG = "postgresql+asyncpg://postgres@127.0.0.1:5432"


def make_points(count: int, revision: int = 1) -> list[EnergyPoint]:
    start = datetime(2020, 1, 1, tzinfo=UTC)
    fetched = datetime.now(UTC)
    return [
        EnergyPoint(
            "10Y1001A1001A82H",
            "actual_load",
            "A04",
            "PT15M",
            0,
            start + timedelta(minutes=15 * i),
            50_000.0 + i % 997,
            "MAW",
            "A01",
            "bench",
            revision,
            fetched,
            fetched,
        )
        for i in range(count)
    ]


async def admin(statement: str) -> None:
    connection = await asyncpg.connect(host="127.0.0.1", user="postgres", database="postgres")
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def bench_postgres(points: list[EnergyPoint]) -> dict[str, list[float]]:
    name = f"bench_ingest_{uuid.uuid4().hex[:8]}"
    await admin(f'CREATE DATABASE "{name}"')
    engine = create_engine(f"{PG}/{name}")
    results: dict[str, list[float]] = {"copy": [], "upsert": [], "upsert_existing": []}
    try:
        await upgrade(engine)
        repository = PointRepository(engine)
        newer = [p._replace(revision_number=2, value=p.value + 1) for p in points]
        for attempt in range(REPEATS + 1):  # the first round warms up and is not counted
            timed = results if attempt else {key: [] for key in results}
            async with engine.begin() as connection:
                await connection.execute(text("TRUNCATE energy_points"))
            async with engine.begin() as connection:
                raw = await connection.get_raw_connection()
                began = time.perf_counter()
                await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
                    "energy_points", records=points, columns=POINT_COLUMNS
                )
            timed["copy"].append(len(points) / (time.perf_counter() - began))
            async with engine.begin() as connection:
                await connection.execute(text("TRUNCATE energy_points"))
            began = time.perf_counter()
            await repository.upsert(points)
            timed["upsert"].append(len(points) / (time.perf_counter() - began))
            began = time.perf_counter()
            await repository.upsert(newer)
            timed["upsert_existing"].append(len(points) / (time.perf_counter() - began))
    finally:
        await engine.dispose()
        await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return results


async def bench_sqlite(points: list[EnergyPoint], folder: Path) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {"upsert": [], "upsert_existing": []}
    newer = [p._replace(revision_number=2, value=p.value + 1) for p in points]
    for attempt in range(REPEATS + 1):  # the first round warms up and is not counted
        timed = results if attempt else {key: [] for key in results}
        engine = create_engine(f"sqlite+aiosqlite:///{folder / f'ingest-{attempt}.db'}")
        await upgrade(engine)
        repository = PointRepository(engine)
        began = time.perf_counter()
        await repository.upsert(points)
        timed["upsert"].append(len(points) / (time.perf_counter() - began))
        began = time.perf_counter()
        await repository.upsert(newer)
        timed["upsert_existing"].append(len(points) / (time.perf_counter() - began))
        await engine.dispose()
    return results


async def bench_backfill(folder: Path) -> list[float]:
    rates = []
    start, end = datetime(2023, 1, 1, tzinfo=UTC), datetime(2024, 1, 1, tzinfo=UTC)
    with platform_process() as url:
        for attempt in range(BACKFILL_REPEATS + 1):  # the first run warms up, not counted
            engine = create_engine(f"sqlite+aiosqlite:///{folder / f'backfill-{attempt}.db'}")
            await upgrade(engine)
            points = PointRepository(engine)
            async with EntsoeClient("bench", base_url=url, requests_per_minute=None) as client:
                service = BackfillService(
                    collector=EntsoeCollector(client),
                    engine=engine,
                    points=points,
                    backfills=BackfillRepository(engine),
                    runs=RunRepository(engine),
                    collection=CollectionSettings(areas=["DE_LU"], data_types=["actual_load"]),
                )
                began = time.perf_counter()
                report = await service.run([Area.DE_LU], ["actual_load"], start, end)
                elapsed = time.perf_counter() - began
            stored = await points.count()
            assert report.status == "done", report
            assert stored == 35_040, stored
            if attempt:
                rates.append(stored / elapsed)
            await engine.dispose()
    return rates


@contextmanager
def platform_process() -> Iterator[str]:
    """The platform stand-in in its own process, as the real platform is (own CPU, no GIL).

    The year's twelve answers are generated before timing starts, so the figure measures this
    service (HTTP, parse, process, store, progress), not the stand-in's document generator.
    """
    script = (
        "import sys\n"
        "from datetime import UTC, datetime\n"
        "from entsoe_client.queries import Query\n"
        "from entsoe_client.testing import FakePlatform, Reply, generate_document\n"
        "query = Query.build('actual_load', 'DE_LU', datetime(2023, 1, 1, tzinfo=UTC),"
        " datetime(2024, 1, 1, tzinfo=UTC))\n"
        "with FakePlatform(token='bench', resolution='PT15M') as platform:\n"
        "    for start, end in query.chunks():\n"
        "        params = query.to_params(start, end)\n"
        "        when = {'periodStart': params['periodStart'], 'periodEnd': params['periodEnd']}\n"
        "        body = generate_document(params, resolution='PT15M')\n"
        "        platform.add_response(when, Reply.xml(body))\n"
        "    print(platform.url, flush=True)\n"
        "    sys.stdin.read()\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        yield process.stdout.readline().strip()
    finally:
        process.kill()
        process.wait()


def row(case: str, rates: list[float], goal: str) -> str:
    spread = f"{min(rates):,.0f}–{max(rates):,.0f}"
    return f"| {case} | {statistics.median(rates):,.0f} | {spread} | {goal} |"


async def main() -> None:
    points = make_points(ROWS)
    with tempfile.TemporaryDirectory() as folder:
        postgres = await bench_postgres(points)
        sqlite = await bench_sqlite(points, Path(folder))
        backfill = await bench_backfill(Path(folder))
    copy = statistics.median(postgres["copy"])
    ratio = statistics.median(postgres["upsert"]) / copy
    ratio_existing = statistics.median(postgres["upsert_existing"]) / copy
    print(
        f"{ROWS:,} rows per storage case, {REPEATS} repeats; backfill {BACKFILL_REPEATS} repeats;"
        " each after one warm-up round\n"
    )
    print("| case | median rows/s | range | goal |")
    print("|---|---:|---:|---|")
    print(row("PostgreSQL plain COPY (baseline)", postgres["copy"], "—"))
    print(row("PostgreSQL upsert, new rows", postgres["upsert"], f"≥ 50% of COPY: {ratio:.0%}"))
    print(
        row(
            "PostgreSQL upsert, newer revision over stored rows",
            postgres["upsert_existing"],
            f"{ratio_existing:.0%} of COPY",
        )
    )
    print(row("SQLite upsert, new rows", sqlite["upsert"], "≥ 100,000"))
    print(row("SQLite upsert, newer revision over stored rows", sqlite["upsert_existing"], "—"))
    print(row("Backfill DE_LU 2023 actual load, SQLite (points/s)", backfill, "≥ 50,000"))


if __name__ == "__main__":
    asyncio.run(main())
