"""`kill -9` of `serve` in the middle of an API backfill: the restarted `serve` finishes it.

Before, the job stayed `running` for ever and nothing resumed it. Now its lease runs out, the
next `serve` claims it on start-up and completes exactly the chunks not yet stored.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest
from entsoe_client.testing import FakePlatform

from .backfill_harness import LEASE, chunks_done, serve_environment
from .backfill_harness import job as _job
from .test_serve_process import start_replica  # noqa: F401  (fixture)

pytestmark = [pytest.mark.chaos, pytest.mark.slow]


def test_serve_killed_mid_backfill_resumes_it_on_restart(
    start_replica: object,  # noqa: F811
    fake_platform: FakePlatform,
    tmp_path: Path,
) -> None:
    fake_platform.latency = 0.3
    env = serve_environment(f"sqlite+aiosqlite:///{tmp_path / 'energy.db'}", fake_platform)
    first = start_replica(env)  # type: ignore[operator]
    first.wait_ready()
    body = {
        "areas": ["DE_LU"],
        "data_types": ["actual_load"],
        "start": "2025-01-01",
        "end": "2026-01-01",
    }
    job_id = httpx.post(f"{first.url}/api/v1/backfill", json=body, timeout=10).json()["id"]
    deadline = time.monotonic() + 60
    while chunks_done(first.url, job_id) < 3:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(first.process.pid, signal.SIGKILL)
    first.process.wait(10)
    killed_at = time.monotonic()
    time.sleep(LEASE + 0.2)  # the lease runs out: nobody works on the job any more

    fake_platform.latency = 0.0
    second = start_replica(env)  # type: ignore[operator]
    second.wait_ready()
    assert _job(second.url, job_id)["status"] in ("running", "done")
    while (job := _job(second.url, job_id))["status"] == "running":
        assert time.monotonic() < deadline + 60
        time.sleep(0.05)
    print(
        f"\nserve killed mid-backfill: finished {time.monotonic() - killed_at:.1f} s after the kill"
    )
    assert job["status"] == "done", job
    assert job["chunks"] == {"done": 12}
    window = {"start_time": "2025-01-01T00:00:00Z", "end_time": "2026-01-01T00:00:00Z"}
    coverage = httpx.get(f"{second.url}/api/v1/coverage", params=window, timeout=10).json()
    assert coverage["series"][0]["percent_complete"] == 100.0
    assert coverage["series"][0]["gaps"] == []
