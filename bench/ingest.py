"""Ingest benchmark of the energy data service: storage and an end-to-end backfill.

Side by side in one run, each case warmed up once (not counted), then repeated; medians
reported with the range, since the machine is shared (compare rows of one run, not runs):

- PostgreSQL: plain COPY of the same rows into ``points`` (the baseline) vs the version-aware
  upsert (catalogue and document rows, COPY into a staging table + one INSERT … ON CONFLICT …
  WHERE) into an empty table; then the same points fetched again unchanged (no history row
  may be written) and fetched again with 1/6 of the values revised. Goal: new ≥ 50% of COPY.
- SQLite: the same three upserts (one executemany in one transaction). Goal: new ≥ 150k rows/s.
  Then a late document: fetched before the stored values, its first ``LATE_OVERLAP`` points
  lie on them and lose (each kept in history with an empty span), the rest are new.
- Backfill of one year of DE_LU actual load (35,040 PT15M points) against the local platform
  stand-in with pacing off, on SQLite, end to end (HTTP, parse, process, store, progress).
  Goal ≥ 50k points/s.

Needs PostgreSQL on 127.0.0.1:5432 (user postgres); run with `uv run python bench/ingest.py`.
The load average is printed before and after: on a busy machine every figure drops.
"""

from __future__ import annotations

import asyncio
import os
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
from energy_data_service.db.tables import point_history
from energy_data_service.domain import EnergyPoint
from energy_data_service.repositories.backfill import BackfillRepository
from energy_data_service.repositories.point_encoding import prepare, rows
from energy_data_service.repositories.points import PointRepository
from energy_data_service.repositories.runs import RunRepository
from energy_data_service.services.backfill import BackfillService
from energy_data_service.settings import CollectionSettings
from entsoe_client import Area, EntsoeClient
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

ROWS = 100_000
REPEATS = 5
BACKFILL_REPEATS = 5
LATE_OVERLAP = 1_000
PG = "postgresql+asyncpg://postgres@127.0.0.1:5432"


def make_points(
    count: int, fetched: datetime, revised: bool = False, skip: int = 0
) -> list[EnergyPoint]:
    """``count`` PT15M points of one series from one document fetched at ``fetched``; with
    ``revised`` every sixth value differs (a correction of 1/6 of the series); the first
    starts ``skip`` steps after 2020-01-01."""
    start = datetime(2020, 1, 1, tzinfo=UTC) + timedelta(minutes=15 * skip)
    return [
        EnergyPoint(
            "10Y1001A1001A82H",
            "actual_load",
            "A04",
            "PT15M",
            0,
            start + timedelta(minutes=15 * i),
            50_000.0 + i % 997 + (0.5 if revised and i % 6 == 0 else 0.0),
            "MAW",
            "A01",
            f"bench-{fetched:%H%M%S}",
            1,
            fetched,
            fetched,
        )
        for i in range(count)
    ]


def fetches_of_a_point() -> tuple[list[EnergyPoint], list[EnergyPoint], list[EnergyPoint]]:
    """The first fetch, the same values fetched again, and a fetch revising 1/6 of them."""
    now = datetime.now(UTC).replace(microsecond=0)
    return (
        make_points(ROWS, now - timedelta(hours=3)),
        make_points(ROWS, now - timedelta(hours=2)),
        make_points(ROWS, now - timedelta(hours=1), revised=True),
    )


async def history_rows(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(point_history)) or 0)


async def admin(statement: str) -> None:
    connection = await asyncpg.connect(host="127.0.0.1", user="postgres", database="postgres")
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


CASES = ("upsert", "unchanged", "revised")


async def timed_upserts(
    repository: PointRepository, engine: AsyncEngine, timed: dict[str, list[float]]
) -> None:
    """The three upserts of one round, each timed, with the history they must (not) write."""
    first, again, revised = fetches_of_a_point()
    for case, points, history in (
        ("upsert", first, 0),
        ("unchanged", again, 0),
        ("revised", revised, -(-ROWS // 6)),
    ):
        began = time.perf_counter()
        await repository.upsert(points)
        timed[case].append(len(points) / (time.perf_counter() - began))
        assert await history_rows(engine) == history, (case, await history_rows(engine))


async def bench_postgres() -> dict[str, list[float]]:
    name = f"bench_ingest_{uuid.uuid4().hex[:8]}"
    await admin(f'CREATE DATABASE "{name}"')
    engine = create_engine(f"{PG}/{name}", command_timeout=300.0)  # 100k-row statements
    results: dict[str, list[float]] = {"copy": [], **{case: [] for case in CASES}}
    try:
        await upgrade(engine)
        repository = PointRepository(engine)
        for attempt in range(REPEATS + 1):  # the first round warms up and is not counted
            timed = results if attempt else {key: [] for key in results}
            # The baseline: the same rows, ready made, COPYed straight into the table.
            await repository.upsert(make_points(1, datetime.now(UTC)))
            async with engine.connect() as connection:
                series_id, fetch_id = (
                    await connection.execute(
                        text("SELECT (SELECT min(id) FROM series), (SELECT min(id) FROM fetches)")
                    )
                ).one()
            batch = prepare(make_points(ROWS, datetime.now(UTC)))
            records = [
                (series_id, _utc(start), value, None, None, fetch_id, _utc(known))
                for series_id, start, value, _, _, fetch_id, known in rows(
                    batch,
                    dict.fromkeys(batch.series, series_id),
                    dict.fromkeys(batch.documents, fetch_id),
                )
            ]
            async with engine.begin() as connection:
                await connection.execute(text("TRUNCATE points, point_history"))
            async with engine.begin() as connection:
                raw = await connection.get_raw_connection()
                began = time.perf_counter()
                await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
                    "points",
                    records=records,
                    columns=(
                        "series_id",
                        "timestamp",
                        "value",
                        "price",
                        "interval_end",
                        "fetch_id",
                        "known_from",
                    ),
                )
            timed["copy"].append(len(records) / (time.perf_counter() - began))
            async with engine.begin() as connection:
                await connection.execute(text("TRUNCATE points, point_history"))
            await timed_upserts(repository, engine, timed)
    finally:
        await engine.dispose()
        await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return results


def _utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


async def bench_sqlite(folder: Path) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {"insert": [], **{case: [] for case in CASES}, "late": []}
    for attempt in range(REPEATS + 1):  # the first round warms up and is not counted
        timed = results if attempt else {key: [] for key in results}
        engine = create_engine(f"sqlite+aiosqlite:///{folder / f'ingest-{attempt}.db'}")
        await upgrade(engine)
        # The floor: the same rows, ready made, in one plain executemany INSERT.
        batch = prepare(make_points(ROWS, datetime.now(UTC)))
        ready = rows(batch, dict.fromkeys(batch.series, 1), dict.fromkeys(batch.documents, 1))
        async with engine.begin() as connection:
            began = time.perf_counter()
            await connection.exec_driver_sql(
                "INSERT INTO points VALUES (?, ?, ?, ?, ?, ?, ?)", ready
            )
        timed["insert"].append(len(ready) / (time.perf_counter() - began))
        async with engine.begin() as connection:
            await connection.execute(text("DELETE FROM points"))
        await timed_upserts(PointRepository(engine), engine, timed)
        # A late document, fetched before all three: its first LATE_OVERLAP points lose.
        late = make_points(ROWS, datetime.now(UTC) - timedelta(hours=4), skip=ROWS - LATE_OVERLAP)
        history = await history_rows(engine)
        began = time.perf_counter()
        await PointRepository(engine).upsert(late)
        timed["late"].append(len(late) / (time.perf_counter() - began))
        assert await history_rows(engine) == history + LATE_OVERLAP
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
        "from entsoe_client import Query\n"
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


def load() -> str:
    return " ".join(f"{average:.2f}" for average in os.getloadavg())


async def main() -> None:
    before = load()
    with tempfile.TemporaryDirectory() as folder:
        postgres = await bench_postgres()
        sqlite = await bench_sqlite(Path(folder))
        backfill = await bench_backfill(Path(folder))
    copy = statistics.median(postgres["copy"])

    def share(case: str) -> str:
        return f"{statistics.median(postgres[case]) / copy:.0%} of COPY"

    print(
        f"{ROWS:,} rows per storage case, {REPEATS} repeats; backfill {BACKFILL_REPEATS} repeats;"
        f" each after one warm-up round; load average {before} before, {load()} after"
        f" ({os.cpu_count()} cores)\n"
    )
    print("| case | median rows/s | range | goal |")
    print("|---|---:|---:|---|")
    print(row("PostgreSQL plain COPY into `points` (baseline)", postgres["copy"], "—"))
    print(
        row(
            "PostgreSQL upsert, new points", postgres["upsert"], f"≥ 50% of COPY: {share('upsert')}"
        )
    )
    print(
        row(
            "PostgreSQL same values fetched again (0 history rows)",
            postgres["unchanged"],
            share("unchanged"),
        )
    )
    print(
        row(
            "PostgreSQL fetched again, 1/6 revised (history kept)",
            postgres["revised"],
            share("revised"),
        )
    )
    floor = statistics.median(sqlite["insert"])
    print(row("SQLite plain executemany INSERT into `points` (floor)", sqlite["insert"], "—"))
    print(
        row(
            "SQLite upsert, new points",
            sqlite["upsert"],
            f"≥ 150,000 ({statistics.median(sqlite['upsert']) / floor:.0%} of the floor)",
        )
    )
    print(row("SQLite same values fetched again (0 history rows)", sqlite["unchanged"], "—"))
    print(row("SQLite fetched again, 1/6 revised (history kept)", sqlite["revised"], "—"))
    print(
        row(
            f"SQLite late older document, {LATE_OVERLAP:,} points lose (history kept), rest new",
            sqlite["late"],
            "—",
        )
    )
    print(row("Backfill DE_LU 2023 actual load, SQLite (points/s)", backfill, "≥ 50,000"))


if __name__ == "__main__":
    asyncio.run(main())
