"""What the backfill tests share: the service over the test container, a CLI backfill, a job's API.

In process (``tests/test_backfill*.py``): `backfill_service` over the test ``Container`` and the
fake platform's ``client`` (a fixture of ``conftest.py``). As processes (those and the
``scheduler/`` cases beside it, which start `serve` replicas with ``test_serve_process``): the
`energy-data backfill` command of one year of DE_LU actual load (12 monthly chunks), the
environment of a `serve` replica that backfills against the fake platform, and a job as
``/api/v1/backfill/{id}`` answers it.
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from typing import Any

import httpx
from energy_data_service.collectors.entsoe_collector import EntsoeCollector
from energy_data_service.container import Container
from energy_data_service.services.backfill import DEFAULT_LEASE_SECONDS, BackfillService
from entsoe_client import Area, EntsoeClient
from entsoe_client.testing import FakePlatform

from .test_serve_process import ENERGY_DATA, TOKEN, _environment

DE_LU = Area.DE_LU
YEAR_START, YEAR_END = datetime(2023, 1, 1, tzinfo=UTC), datetime(2024, 1, 1, tzinfo=UTC)
LEASE = 2.0
"""The short lease of the process cases: a stopped or killed backfill's job is free soon."""


def backfill_service(
    container: Container, client: EntsoeClient, lease: float = DEFAULT_LEASE_SECONDS
) -> BackfillService:
    return BackfillService(
        collector=EntsoeCollector(client),
        engine=container.engine,
        points=container.points,
        backfills=container.backfills,
        runs=container.runs,
        collection=container.settings.collection,
        lease_seconds=lease,
    )


def start_cli_backfill(env: dict[str, str], *range_: str, **options: Any) -> subprocess.Popen[Any]:
    """`energy-data backfill` of DE_LU actual load over ``range_`` (default: 2023) as a process."""
    period = range_ or ("--start", "2023-01-01", "--end", "2024-01-01")
    command = [ENERGY_DATA, "backfill", "--area", "DE_LU", "--data-type", "actual_load", *period]
    return subprocess.Popen(command, env=env, stderr=subprocess.PIPE, **options)


def serve_environment(
    database_url: str, fake_platform: FakePlatform, **extra: str
) -> dict[str, str]:
    """A `serve` replica's environment: the fake platform, no scheduler, the short lease."""
    return _environment(
        database_url,
        ENTSOE__API_TOKEN=TOKEN,
        ENTSOE__BASE_URL=fake_platform.url,
        ENTSOE__REQUESTS_PER_MINUTE="",
        SCHEDULER__ENABLED="false",
        BACKFILL__LEASE_SECONDS=str(LEASE),
        **extra,
    )


def job(url: str, job_id: object) -> dict[str, object]:
    """The job as the replica at ``url`` answers ``GET /api/v1/backfill/{job_id}``."""
    answer = httpx.get(f"{url}/api/v1/backfill/{job_id}", timeout=5, trust_env=False)
    return dict(answer.json())


def chunks_done(url: str, job_id: object) -> int:
    """How many of the job's chunks are done, as its replica answers."""
    chunks: dict[str, int] = dict(job(url, job_id)["chunks"] or {})  # type: ignore[call-overload]
    return int(chunks.get("done", 0))
