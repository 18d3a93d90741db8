"""The status store on PostgreSQL cut off (refused, or a silent partition): fast 503s, recovery.

Before, every POST and status read answered 500 while `/health` said "ok", and a partition
hung requests for more than 15 s. The store now bounds every wait (DATABASE_TIMEOUT_S), an
outage is a 503 with Retry-After, `/health` reports the store, and the service recovers when
the database is back, without a restart. A fault that is not an outage is still a 500.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import AbstractContextManager

import httpx
import pytest
from service_common.testing import FaultyTcpProxy

from .conftest import RunningApi, command

StartApi = Callable[..., AbstractContextManager[RunningApi]]
BOUND_SECONDS = 5.0


async def _timed(call: asyncio.Future[httpx.Response] | object) -> tuple[int, float]:
    began = time.monotonic()
    answer = await call  # type: ignore[misc]
    return answer.status_code, time.monotonic() - began


@pytest.mark.chaos
@pytest.mark.postgres
@pytest.mark.parametrize("fault", ["refuse", "blackhole"])
async def test_a_store_outage_is_a_fast_503_and_recovers(
    start_api: StartApi,
    postgres_url: str,
    fault: str,
) -> None:
    with FaultyTcpProxy("127.0.0.1", 5432) as proxy:
        url = postgres_url.replace(":5432/", f":{proxy.port}/")
        with start_api(database_url=url, database_timeout_s=1.5) as api:
            async with api.client() as http:
                accepted = await http.post("/api/v1/commands", json=command())
                assert accepted.status_code == 202, accepted.text
                request_id = accepted.json()["request_id"]
                assert (await http.get("/health")).json()["store_connected"] is True
                getattr(proxy, fault)()
                calls = [http.post("/api/v1/commands", json=command()) for _ in range(5)]
                calls.append(http.get(f"/api/v1/commands/{request_id}/status"))
                answers = await asyncio.gather(*[_timed(call) for call in calls])
                codes = {code for code, _ in answers}
                slowest = max(seconds for _, seconds in answers)
                health = (await http.get("/health")).json()
                print(f"\npusher, PostgreSQL {fault}d: {sorted(codes)} within {slowest:.2f} s")
                assert codes == {503}, answers
                assert slowest < BOUND_SECONDS
                assert health["store_connected"] is False
                assert health["status"] == "degraded"
                proxy.restore()
                deadline = time.monotonic() + 20
                while (
                    answer := await http.post("/api/v1/commands", json=command())
                ).status_code != 202:
                    assert time.monotonic() < deadline, answer.text
                    await asyncio.sleep(0.2)
                assert (await http.get("/health")).json()["store_connected"] is True
