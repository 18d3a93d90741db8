"""Chaos on one SQLite file: two CLI backfills and `serve` (itself backfilling) at once.

Three real processes start together on a fresh file, so they race for the migration, plan
overlapping chunks of the same series, and write points at the same time while the test reads
through the API. Every process must finish without a "database is locked" crash, every job
must end ``done``, and every point must be stored exactly once with its value.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from energy_data_service.container import Container
from energy_data_service.settings import Settings
from entsoe_client import Area
from entsoe_client.testing import FakePlatform, value_at

from .scheduler.test_serve_process import (  # noqa: F401  (fixture)
    ENERGY_DATA,
    TOKEN,
    _environment,
    start_replica,
)

pytestmark = [pytest.mark.chaos, pytest.mark.slow]
START, MIDDLE, END = "2025-01-01", "2025-04-01", "2025-07-01"


def _range(start: str, end: str) -> list[str]:
    return ["--start", start, "--end", end]


def _backfill(
    env: dict[str, str], cwd: Path, area: str, start: str, end: str
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            ENERGY_DATA,
            "backfill",
            "--area",
            area,
            "--data-type",
            "actual_load",
            *("--start", start),
            "--end",
            end,
        ],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_backfills_and_serve_on_one_sqlite_file_all_finish_with_every_point_once(
    start_replica: object,  # noqa: F811
    fake_platform: FakePlatform,
    tmp_path: Path,
) -> None:
    fake_platform.resolution = "PT15M"
    fake_platform.latency = 0.05
    url = f"sqlite+aiosqlite:///{tmp_path / 'energy.db'}"
    env = _environment(
        url,
        ENTSOE__API_TOKEN=TOKEN,
        ENTSOE__BASE_URL=fake_platform.url,
        ENTSOE__REQUESTS_PER_MINUTE="",
        SCHEDULER__ENABLED="false",
        COLUMNS="200",
    )
    began = time.monotonic()
    serve = start_replica(env)  # type: ignore[operator]
    # Overlapping halves of one series, and (through serve) the whole of another.
    first = _backfill(env, tmp_path, "DE_LU", START, END)
    second = _backfill(env, tmp_path, "DE_LU", MIDDLE, END)
    serve.wait_ready(180)
    answer = httpx.post(
        f"{serve.url}/api/v1/backfill",
        json={"areas": ["FR", "DE_LU"], "data_types": ["actual_load"], "start": START, "end": END},
        timeout=30,
        trust_env=False,
    )
    assert answer.status_code == 202, answer.text
    job_id = answer.json()["id"]
    reads: list[float] = []
    deadline = time.monotonic() + 300
    while True:  # read while everyone writes: the API must keep answering
        assert time.monotonic() < deadline
        asked = time.monotonic()
        data = httpx.get(
            f"{serve.url}/api/v1/energy-data",
            params={
                "area_code": "DE_LU",
                "data_type": "actual_load",
                "start_time": "2025-03-01T00:00:00Z",
                "end_time": "2025-03-02T00:00:00Z",
            },
            timeout=30,
            trust_env=False,
        )
        assert data.status_code in (200, 404), data.text
        reads.append(time.monotonic() - asked)
        job = httpx.get(f"{serve.url}/api/v1/backfill/{job_id}", timeout=30, trust_env=False)
        if (
            job.json()["status"] != "running"
            and first.poll() is not None
            and second.poll() is not None
        ):
            break
        time.sleep(0.2)
    took = time.monotonic() - began
    outputs = [process.communicate(timeout=30) for process in (first, second)]
    for process, (out, err) in zip((first, second), outputs, strict=True):
        assert process.returncode == 0, out + err
        assert "database is locked" not in out + err
        assert "Traceback" not in err
    jobs = httpx.get(f"{serve.url}/api/v1/backfill", timeout=30, trust_env=False).json()
    assert [j["status"] for j in jobs] == ["done", "done", "done"], jobs
    assert serve.process.poll() is None
    assert "database is locked" not in serve.output()
    assert "Traceback" not in serve.output()
    print(
        f"\ntwo CLI backfills + serve on one SQLite file: all done in {took:.1f} s; "
        f"{len(reads)} API reads meanwhile, slowest {max(reads):.2f} s"
    )

    assert asyncio.run(_stored(url)) == {"DE_LU": EXPECTED, "FR": EXPECTED}


EXPECTED = int(
    (datetime.fromisoformat(END) - datetime.fromisoformat(START)) / timedelta(minutes=15)
)


async def _stored(url: str) -> dict[str, int]:
    """Points per area over the whole range, each checked against the stand-in's value."""
    counts: dict[str, int] = {}
    settings = Settings(database={"url": url}, entsoe={"api_token": TOKEN})
    async with Container(settings) as container:
        for area in (Area.DE_LU, Area.FR):
            points = await container.points.range(
                area.eic,
                "actual_load",
                datetime.fromisoformat(START).replace(tzinfo=UTC),
                datetime.fromisoformat(END).replace(tzinfo=UTC),
            )
            assert len({p.timestamp for p in points}) == len(points)  # each interval once
            assert all(p.value == value_at(p.timestamp) for p in points)
            counts[area.short_name] = len(points)
    return counts
