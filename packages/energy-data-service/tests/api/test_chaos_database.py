"""PostgreSQL refused and PostgreSQL silent (a partition): the API answers 503 fast, then recovers.

The service reaches PostgreSQL through a fault proxy. Refused connections were always a quick
503; a partition (connections accepted, nothing answered) used to hang a request for the whole
outage. Now every wait is bounded (connect, command, pool), so both answer 503 within a few
seconds, and the service serves again as soon as the database is back, without a restart.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from service_common.testing import FaultyTcpProxy

from .conftest import api_settings, serve

POSTGRES_HOST, POSTGRES_PORT = "127.0.0.1", 5432

pytestmark = [pytest.mark.chaos, pytest.mark.postgres]
BOUND_SECONDS = 5.0


async def _timed_get(http: object, path: str) -> tuple[int, float]:
    began = time.monotonic()
    answer = await http.get(path)  # type: ignore[attr-defined]
    return answer.status_code, time.monotonic() - began


@pytest.mark.parametrize("fault", ["refuse", "blackhole"])
async def test_a_database_outage_is_a_fast_503_and_recovers(postgres_url: str, fault: str) -> None:
    with FaultyTcpProxy(POSTGRES_HOST, POSTGRES_PORT) as proxy:
        url = postgres_url.replace(f":{POSTGRES_PORT}/", f":{proxy.port}/")
        settings = api_settings(url)
        settings.database.connect_timeout_seconds = 2
        settings.database.command_timeout_seconds = 2
        settings.database.pool_timeout_seconds = 2
        async with serve(settings) as api:
            assert (await api.http.get("/api/v1/backfill")).status_code == 200
            getattr(proxy, fault)()
            answers = await asyncio.gather(
                *[_timed_get(api.http, "/api/v1/backfill") for _ in range(5)]
            )
            codes = {code for code, _ in answers}
            slowest = max(seconds for _, seconds in answers)
            print(f"\nenergy API, PostgreSQL {fault}d: {sorted(codes)} within {slowest:.2f} s")
            assert codes == {503}, answers
            assert slowest < BOUND_SECONDS
            proxy.restore()
            deadline = time.monotonic() + 20
            while (code := (await api.http.get("/api/v1/backfill")).status_code) != 200:
                assert time.monotonic() < deadline, code
                await asyncio.sleep(0.2)
            print(f"energy API recovered {time.monotonic() - deadline + 20:.2f} s after restore")
