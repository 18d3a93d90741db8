"""`kill -9` of a CLI backfill while `serve` runs: the running `serve` finishes the job.

Before, orphaned jobs were looked for only when `serve` started, so a CLI backfill killed while
`serve` kept running read `interrupted` until someone resumed it by hand or restarted `serve`.
Now `serve` checks every ``BACKFILL__RECOVERY_SECONDS`` and resumes a job whose lease ran out.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from entsoe_client.testing import FakePlatform

from .backfill_harness import chunks_done, serve_environment, start_cli_backfill
from .backfill_harness import job as _job
from .test_serve_process import start_replica  # noqa: F401  (fixture)

pytestmark = [pytest.mark.chaos, pytest.mark.slow]
RANGE = ("--start", "2025-01-01", "--end", "2026-01-01")


def _jobs(url: str) -> list[dict[str, object]]:
    return list(httpx.get(f"{url}/api/v1/backfill", timeout=5, trust_env=False).json())


def test_a_killed_cli_backfill_is_finished_by_the_running_serve(
    start_replica: object,  # noqa: F811
    fake_platform: FakePlatform,
    tmp_path: Path,
) -> None:
    fake_platform.latency = 0.3
    env = serve_environment(
        f"sqlite+aiosqlite:///{tmp_path / 'energy.db'}",
        fake_platform,
        BACKFILL__RECOVERY_SECONDS="0.5",
    )
    serve = start_replica(env)  # type: ignore[operator]
    serve.wait_ready(180)
    cli = start_cli_backfill(env, *RANGE, cwd=tmp_path, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert time.monotonic() < deadline
            assert cli.poll() is None, cli.stderr.read() if cli.stderr else ""
            jobs = _jobs(serve.url)
            if jobs and chunks_done(serve.url, jobs[0]["id"]) >= 3:
                break
            time.sleep(0.05)
        os.kill(cli.pid, signal.SIGKILL)
        cli.wait(10)
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait(10)
    killed_at = time.monotonic()
    (job,) = _jobs(serve.url)
    assert chunks_done(serve.url, job["id"]) < 12
    killed_owner = job["owner"]

    fake_platform.latency = 0.0
    while (job := _job(serve.url, job["id"]))["status"] != "done":
        assert job["status"] in ("running", "interrupted"), job
        assert time.monotonic() < killed_at + 90, job
        time.sleep(0.1)
    took = time.monotonic() - killed_at
    print(f"\nCLI backfill killed: the running serve finished it {took:.1f} s later")
    assert job["chunks"] == {"done": 12}
    assert job["owner"] != killed_owner
    assert serve.process.poll() is None  # the same serve, never restarted
    window = {"start_time": "2025-01-01T00:00:00Z", "end_time": "2026-01-01T00:00:00Z"}
    coverage = httpx.get(f"{serve.url}/api/v1/coverage", params=window, timeout=10).json()
    assert coverage["series"][0]["percent_complete"] == 100.0
    assert "Traceback" not in serve.output()
