"""Benchmark: the REST API of `energy-data serve` on SQLite and PostgreSQL.

    uv run python bench/api.py            # both backends (PostgreSQL on 127.0.0.1:5432)
    uv run python bench/api.py --sqlite   # SQLite only

For each backend one year of DE_LU actual load at PT15M (35,040 points) is stored, then a real
`energy-data serve` process (collection off) is started on a free loopback port and measured
from this process:

(a) one year as JSON from ``/api/v1/energy-data`` (``limit=35040``, one page) against a bare
    database read of the same rows (the same SELECT through SQLAlchemy, no HTTP, no JSON);
    REPEATS runs each, medians; goal: API p50 <= 3x the bare read. The year is stored as
    three fetches (the second unchanged, the third revising every sixth value), so history
    exists; the same year ``as_of`` an instant between the second and third fetch is read
    too (1/6 of it from the history); goal: as-of p50 <= 3x the current read;
(b) ``/api/v1/energy-data/latest`` with 50 concurrent keep-alive clients for SECONDS seconds,
    ROUNDS rounds: requests/s and p99 latency, medians over rounds; goal >= 1,000 requests/s.
    The load generator is a minimal HTTP/1.1 client on raw asyncio streams, so the client's
    own overhead stays well below the server's. The server's CPU time per request (from its
    rusage) is printed too: it does not depend on what else runs on the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import psutil
from energy_data_service.db.engine import create_engine
from energy_data_service.db.migrate import upgrade
from energy_data_service.db.tables import points, series
from energy_data_service.domain import EnergyPoint
from energy_data_service.repositories.points import PointRepository
from sqlalchemy import select

DE_LU = "10Y1001A1001A82H"
START = datetime(2024, 12, 31, 23, tzinfo=UTC)  # 2025-01-01 00:00 Europe/Berlin
POINTS = 35_040
REPEATS = 15
CONCURRENCY = 50
SECONDS = 5.0
ROUNDS = 3
ENERGY_DATA = str(Path(sys.executable).with_name("energy-data"))


NOW = datetime.now(UTC).replace(microsecond=0)
FETCHES = (NOW - timedelta(hours=3), NOW - timedelta(hours=2), NOW - timedelta(hours=1))
AS_OF = NOW - timedelta(minutes=90)  # after the second fetch, before the revising third


def _points(fetched: datetime, revised: bool) -> list[EnergyPoint]:
    return [
        EnergyPoint(
            DE_LU, "actual_load", "A04", "PT15M", 0, START + timedelta(minutes=15 * i),
            40_000.0 + (i % 96) * 17.25 + (2.5 if revised and i % 6 == 0 else 0.0),
            "MAW", "A01", f"bench-{fetched:%H}", 1, None, fetched,
        )
        for i in range(POINTS)
    ]  # fmt: skip


async def _seed(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
        for fetched in FETCHES:
            await PointRepository(engine).upsert(_points(fetched, fetched == FETCHES[-1]))
    finally:
        await engine.dispose()


async def _bare_reads(url: str) -> list[float]:
    """The rows the endpoint returns, read straight from the database (pool warmed first)."""
    c = points.c
    series_id = (
        select(series.c.id)
        .where(series.c.area_code == DE_LU, series.c.data_type == "actual_load")
        .scalar_subquery()
    )
    query = (
        select(c.timestamp, c.value, c.price)
        .where(
            c.series_id == series_id,
            c.timestamp >= START,
            c.timestamp < START + timedelta(days=365),
        )
        .order_by(c.timestamp)
    )
    engine = create_engine(url)
    timings = []
    try:
        for attempt in range(REPEATS + 1):
            began = time.perf_counter()
            async with engine.connect() as connection:
                rows = (await connection.execute(query)).all()
            if attempt:  # the first read warms the pool and the page cache
                timings.append(time.perf_counter() - began)
            assert len(rows) == POINTS, len(rows)
    finally:
        await engine.dispose()
    return timings


def _api_reads(base: str, as_of: datetime | None = None) -> list[float]:
    params: dict[str, str | int] = {
        "area_code": "DE_LU",
        "data_type": "actual_load",
        "start_time": START.isoformat(),
        "end_time": (START + timedelta(days=365)).isoformat(),
        "limit": POINTS,
    }
    if as_of is not None:
        params["as_of"] = as_of.isoformat()
    timings = []
    with httpx.Client(base_url=base, timeout=60, trust_env=False) as http:
        for attempt in range(REPEATS + 1):
            began = time.perf_counter()
            answer = http.get("/api/v1/energy-data", params=params)
            elapsed = time.perf_counter() - began
            answer.raise_for_status()
            if attempt:
                timings.append(elapsed)
            assert len(answer.json()["points"]) == POINTS
    return timings


async def _load_round(port: int) -> tuple[float, float, int]:
    """Requests/s, p99 seconds and error count of one round of CONCURRENCY keep-alive clients."""
    request = (
        b"GET /api/v1/energy-data/latest?area_code=DE_LU&data_type=actual_load HTTP/1.1\r\n"
        b"Host: 127.0.0.1\r\n\r\n"
    )
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + SECONDS

    async def client() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < deadline:
                began = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await reader.readexactly(length)
                latencies.append(time.perf_counter() - began)
                if not head.startswith(b"HTTP/1.1 200"):
                    errors += 1
        finally:
            writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(CONCURRENCY)))
    elapsed = time.perf_counter() - began
    latencies.sort()
    return len(latencies) / elapsed, latencies[int(len(latencies) * 0.99)], errors


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve(url: str, workdir: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ENTSOE", "API__"))}
    env.update(DATABASE__URL=url, HTTP__PORT=str(port), SCHEDULER__ENABLED="false")
    process = subprocess.Popen(
        [ENERGY_DATA, "serve"],
        env=env,
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", trust_env=False).status_code == 200:
                return process, port
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("energy-data serve did not start")


async def _postgres(statement: str) -> None:
    connection = await asyncpg.connect(host="127.0.0.1", user="postgres", database="postgres")
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def bench(backend: str, url: str, workdir: Path) -> dict[str, float]:
    asyncio.run(_seed(url))
    bare = asyncio.run(_bare_reads(url))
    process, port = _serve(url, workdir)
    try:
        api = _api_reads(f"http://127.0.0.1:{port}")
        as_of = _api_reads(f"http://127.0.0.1:{port}", AS_OF)
        server = psutil.Process(process.pid)
        rounds, cpu_per_request = [], []
        for _ in range(ROUNDS):
            cpu_before = sum(server.cpu_times()[:2])
            rounds.append(asyncio.run(_load_round(port)))
            cpu = sum(server.cpu_times()[:2]) - cpu_before
            cpu_per_request.append(cpu / (rounds[-1][0] * SECONDS))
    finally:
        process.terminate()
        process.wait(60)
    assert all(errors == 0 for _, _, errors in rounds), rounds
    return {
        "bare_ms": statistics.median(bare) * 1000,
        "api_ms": statistics.median(api) * 1000,
        "as_of_ms": statistics.median(as_of) * 1000,
        "rps": statistics.median(r for r, _, _ in rounds),
        "p99_ms": statistics.median(p for _, p, _ in rounds) * 1000,
        "cpu_ms": statistics.median(cpu_per_request) * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sqlite", action="store_true", help="SQLite only")
    only_sqlite = parser.parse_args().sqlite
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        results["SQLite"] = bench("SQLite", f"sqlite+aiosqlite:///{workdir / 'bench.db'}", workdir)
        if not only_sqlite:
            name = f"bench_api_{uuid.uuid4().hex[:8]}"
            asyncio.run(_postgres(f'CREATE DATABASE "{name}"'))
            try:
                url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
                results["PostgreSQL"] = bench("PostgreSQL", url, workdir)
            finally:
                asyncio.run(_postgres(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    print(f"\nOne year of PT15M points ({POINTS:,}) as JSON, medians of {REPEATS} runs; ")
    print(f"/latest with {CONCURRENCY} concurrent clients, {ROUNDS} rounds of {SECONDS:.0f} s.\n")
    print(
        "| backend | bare DB read | API JSON p50 | ratio (goal <= 3x) | API as_of p50 "
        "| as_of / current (goal <= 3x) "
        "| /latest req/s (goal >= 1000) | /latest p99 | server CPU per /latest |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for backend, r in results.items():
        print(
            f"| {backend} | {r['bare_ms']:.1f} ms | {r['api_ms']:.1f} ms | "
            f"{r['api_ms'] / r['bare_ms']:.2f}x | {r['as_of_ms']:.1f} ms | "
            f"{r['as_of_ms'] / r['api_ms']:.2f}x | {r['rps']:,.0f} | {r['p99_ms']:.1f} ms | "
            f"{r['cpu_ms']:.2f} ms |"
        )  # fmt: skip


if __name__ == "__main__":
    main()
