"""`energy-data serve` as real processes: clean stop, start-up failures, leader fail-over."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from entsoe_client.testing import FakePlatform

TOKEN = "test-token"
ENERGY_DATA = str(Path(sys.executable).with_name("energy-data"))  # the installed command


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _environment(database_url: str, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ENTSOE", "DATABASE__", "HTTP__", "SCHEDULER__", "API__"))
    }
    env.update(DATABASE__URL=database_url, NO_COLOR="1", **extra)
    return env


@dataclass
class Replica:
    """One `energy-data serve` process and where it listens."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def health(self) -> httpx.Response:
        return httpx.get(f"{self.url}/api/v1/health", timeout=5, trust_env=False)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited early:\n{self.output()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1, trust_env=False).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"serve not ready:\n{self.output()}")


@pytest.fixture
def start_replica(tmp_path: Path) -> Iterator[object]:
    started: list[Replica] = []

    def start(env: dict[str, str]) -> Replica:
        port = _free_port()
        log = tmp_path / f"serve-{port}.log"
        process = subprocess.Popen(
            [ENERGY_DATA, "serve", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        replica = Replica(process, f"http://127.0.0.1:{port}", log)
        started.append(replica)
        return replica

    yield start
    for replica in started:
        if replica.process.poll() is None:
            replica.process.kill()
            replica.process.wait(10)


def test_without_token_it_serves_says_collection_is_off_and_stops_cleanly(
    start_replica, sqlite_url: str
) -> None:  # type: ignore[no-untyped-def]
    replica: Replica = start_replica(_environment(sqlite_url))
    replica.wait_ready()
    body = replica.health().json()
    assert body["scheduler"]["collection"] == "off"
    assert "ENTSOE__API_TOKEN" in body["scheduler"]["reason"]
    replica.process.send_signal(signal.SIGTERM)
    assert replica.process.wait(30) == 0
    output = replica.output()
    assert "collection is off until ENTSOE__API_TOKEN is set" in output
    assert "Traceback" not in output


def test_start_up_failures_print_a_clear_message_and_exit_non_zero(tmp_path: Path) -> None:
    def run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [ENERGY_DATA, "serve"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    unreachable = run(_environment("postgresql+asyncpg://postgres@127.0.0.1:1/none"))
    assert unreachable.returncode == 1
    assert "cannot open the database at postgresql+asyncpg://postgres@127.0.0.1:1/none" in (
        unreachable.stderr
    )
    assert "Traceback" not in unreachable.stderr

    bad = run(_environment("sqlite+aiosqlite:///./x.db", HTTP__PORT="eighty"))
    assert bad.returncode == 2
    assert "HTTP__PORT" in bad.stderr


def _leaders(replicas: list[Replica]) -> list[Replica]:
    return [r for r in replicas if r.health().json()["scheduler"]["leader"]]


@pytest.mark.postgres
def test_exactly_one_replica_schedules_and_another_takes_over_when_it_dies(
    start_replica, postgres_url: str
) -> None:  # type: ignore[no-untyped-def]
    with FakePlatform(token=TOKEN) as platform:
        env = _environment(
            postgres_url,
            ENTSOE__API_TOKEN=TOKEN,
            ENTSOE__BASE_URL=platform.url,
            ENTSOE__REQUESTS_PER_MINUTE="",
            COLLECTION__AREAS="DE_LU",
            COLLECTION__DATA_TYPES="actual_load",
            COLLECTION__LOOKBACK_DAYS="1",
            SCHEDULER__LEADER_POLL_SECONDS="0.5",
        )
        began = time.monotonic()
        replicas: list[Replica] = [start_replica(env), start_replica(env)]
        for replica in replicas:
            replica.wait_ready()
        print(f"ready after {time.monotonic() - began:.2f} s")
        deadline = time.monotonic() + 20
        while not _leaders(replicas):
            assert time.monotonic() < deadline, replicas[0].output()
            time.sleep(0.1)
        time.sleep(1.5)  # three polls: the follower must not win the lock meanwhile
        leaders = _leaders(replicas)
        assert len(leaders) == 1
        first = leaders[0]
        (second,) = [r for r in replicas if r is not first]
        assert second.health().json()["scheduler"]["running"] is False
        # Both serve the API; only the leader runs jobs.
        assert httpx.get(f"{second.url}/api/v1/jobs", trust_env=False).status_code == 200

        first.process.send_signal(signal.SIGKILL)
        first.process.wait(10)
        killed_at = time.monotonic()
        while not _leaders([second]):
            assert time.monotonic() - killed_at < 15, second.output()
            time.sleep(0.1)
        took_over = time.monotonic() - killed_at
        assert second.health().json()["scheduler"]["running"] is True
        jobs = httpx.get(f"{second.url}/api/v1/jobs", trust_env=False).json()
        assert {job["id"] for job in jobs if job["next_run_at"]} >= {"realtime_collection"}
        stopping = time.monotonic()
        second.process.send_signal(signal.SIGTERM)
        assert second.process.wait(60) == 0
        print(f"stop took {time.monotonic() - stopping:.2f} s")
    print(f"fail-over took {took_over:.2f} s")
