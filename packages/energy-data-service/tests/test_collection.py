"""CollectionService against the platform stand-in (real HTTP) on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
from energy_data_service.collectors.entsoe_collector import EntsoeCollector
from energy_data_service.container import Container
from energy_data_service.db.tables import points as points_table
from energy_data_service.services.collection import CollectionService
from entsoe_client import Area, AuthenticationError, EntsoeClient
from entsoe_client.testing import FakePlatform, Reply, value_at
from sqlalchemy import delete

DE_LU = Area.DE_LU
NOW = datetime(2024, 3, 10, 12, tzinfo=UTC)


def service_for(
    container: Container,
    platform: FakePlatform,
    *,
    token: str = "test-token",
    clock: Callable[[], datetime] = lambda: NOW,
) -> tuple[CollectionService, EntsoeClient]:
    """The real service over a real client with fast retries (the platform's pacing off)."""
    client = EntsoeClient(
        token, base_url=platform.url, requests_per_minute=None, backoff_base=0.01, max_retries=5
    )
    service = CollectionService(
        collector=EntsoeCollector(client),
        points=container.points,
        runs=container.runs,
        collection=container.settings.collection,
        clock=clock,
    )
    return service, client


@pytest.fixture
async def service(
    container: Container, fake_platform: FakePlatform
) -> AsyncIterator[CollectionService]:
    fake_platform.resolution = "PT15M"
    built, client = service_for(container, fake_platform)
    async with client:
        yield built


async def stored(container: Container, start: datetime, end: datetime, kind: str = "actual_load"):  # type: ignore[no-untyped-def]
    return await container.points.range(DE_LU.eic, kind, start, end)


async def test_range_is_stored_exactly_once_across_chunk_boundaries(
    service: CollectionService, container: Container, fake_platform: FakePlatform
) -> None:
    # 40 days: two monthly chunks, and the platform refuses more than 9 days per request,
    # so the client halves adaptively; no point may be lost or doubled on any edge.
    fake_platform.max_span = timedelta(days=9)
    start, end = datetime(2024, 1, 20, tzinfo=UTC), datetime(2024, 2, 29, tzinfo=UTC)
    result = await service.collect_range(DE_LU, "actual_load", start, end)
    assert result.success, result.error
    points = await stored(container, start, end)
    expected = [start + timedelta(minutes=15 * i) for i in range(40 * 96)]
    assert [p.timestamp for p in points] == expected
    assert all(p.value == value_at(p.timestamp) for p in points)
    assert any(r.status == 400 for r in fake_platform.requests)  # refusals really happened
    (run,) = await container.runs.recent()
    assert (run.run_kind, run.success, run.points) == ("collect", True, 40 * 96)
    assert run.platform_response_ms is not None
    assert run.platform_response_ms > 0


async def test_faults_429_and_503_are_survived_with_correct_data(
    service: CollectionService, container: Container, fake_platform: FakePlatform
) -> None:
    fake_platform.enqueue(Reply.rate_limited(retry_after=0), times=2)
    fake_platform.enqueue(Reply.server_error(503), times=2)
    start, end = datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 3, 3, tzinfo=UTC)
    result = await service.collect_range(DE_LU, "actual_load", start, end)
    assert result.success, result.error
    points = await stored(container, start, end)
    assert len(points) == 192
    assert all(p.value == value_at(p.timestamp) for p in points)
    statuses = [r.status for r in fake_platform.requests]
    assert statuses.count(429) == 2
    assert statuses.count(503) == 2


async def test_a_failed_chunk_fails_the_run(
    service: CollectionService, container: Container, fake_platform: FakePlatform
) -> None:
    start, end = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 2, 15, tzinfo=UTC)
    second_chunk = f"{datetime(2024, 2, 1, tzinfo=UTC):%Y%m%d%H%M}"
    fake_platform.add_response(
        {"periodStart": second_chunk},
        Reply.acknowledgement("Unexpected error occurred in the system", status=400, code="B18"),
    )
    result = await service.collect_range(DE_LU, "actual_load", start, end)
    assert not result.success
    assert "Unexpected error" in (result.error or "")
    (run,) = await container.runs.recent()
    assert run.success is False
    assert run.error_class == "AcknowledgementError"
    # what did arrive is kept (and correct); the run still says failed
    assert len(await stored(container, start, end)) == 31 * 96


async def test_wrong_token_raises_and_stores_no_points(
    container: Container, fake_platform: FakePlatform
) -> None:
    service, client = service_for(container, fake_platform, token="wrong-token")
    async with client:
        with pytest.raises(AuthenticationError):
            await service.collect_range(
                DE_LU,
                "actual_load",
                datetime(2024, 1, 1, tzinfo=UTC),
                datetime(2024, 1, 2, tzinfo=UTC),
            )
    assert await container.points.count() == 0
    # the failed run itself is recorded (monitoring alerts on it at once); no data is
    (run,) = await container.runs.recent()
    assert (run.success, run.error_class, run.points) == (False, "AuthenticationError", 0)


async def test_holes_in_the_middle_are_found_and_only_they_are_fetched(
    service: CollectionService, container: Container, fake_platform: FakePlatform
) -> None:
    first = await service.fill_gaps(DE_LU, "actual_load")
    assert first.success, first.error
    window_start = NOW - timedelta(days=2)  # lookback_days=2 in the test settings
    assert len(await stored(container, window_start, NOW)) == 2 * 96

    hole_start, hole_end = datetime(2024, 3, 9, 3, tzinfo=UTC), datetime(2024, 3, 9, 5, tzinfo=UTC)
    other_start = datetime(2024, 3, 9, 20, 15, tzinfo=UTC)
    async with container.engine.begin() as connection:
        c = points_table.c
        await connection.execute(
            delete(points_table).where(
                ((c.timestamp >= hole_start) & (c.timestamp < hole_end))
                | (c.timestamp == other_start)
            )
        )
    fake_platform.clear()
    second = await service.fill_gaps(DE_LU, "actual_load")
    assert second.success, second.error
    asked = sorted(r.period for r in fake_platform.requests)
    assert asked == [
        (hole_start, hole_end),
        (other_start, other_start + timedelta(minutes=15)),
    ]
    points = await stored(container, window_start, NOW)
    assert len(points) == 2 * 96
    assert all(p.value == value_at(p.timestamp) for p in points)
    assert [r.run_kind for r in await container.runs.recent()] == ["gap_fill", "gap_fill"]


async def test_prices_for_tomorrow_only_after_publication(
    container: Container, fake_platform: FakePlatform
) -> None:
    morning = datetime(2024, 3, 10, 9, tzinfo=UTC)
    afternoon = datetime(2024, 3, 10, 13, tzinfo=UTC)
    for now, last_day_end in (
        (morning, datetime(2024, 3, 10, 23, tzinfo=UTC)),
        (afternoon, datetime(2024, 3, 11, 23, tzinfo=UTC)),
    ):
        service, client = service_for(container, fake_platform, clock=lambda now=now: now)
        async with client:
            assert service.window(DE_LU, "day_ahead_prices", now)[1] == last_day_end
            result = await service.fill_gaps(DE_LU, "day_ahead_prices")
        assert result.success, result.error
        latest = await container.points.latest(DE_LU.eic, "day_ahead_prices")
        assert latest is not None
        assert latest.timestamp == last_day_end - timedelta(hours=1)
        assert latest.unit == "EUR/MWH"


async def test_forecasts_are_refetched_over_their_horizon(
    service: CollectionService, container: Container, fake_platform: FakePlatform
) -> None:
    assert (await service.fill_gaps(DE_LU, "day_ahead_forecast")).success
    fake_platform.clear()
    again = await service.fill_gaps(DE_LU, "day_ahead_forecast")
    assert again.success
    (request,) = fake_platform.requests  # no holes, but today..horizon is asked again
    assert request.period[0] == datetime(2024, 3, 9, 23, tzinfo=UTC)


async def test_fill_all_runs_areas_concurrently_and_records_each(
    service: CollectionService, container: Container
) -> None:
    results = await service.fill_all([Area.DE_LU, Area.FR, Area.NL], ["actual_load"])
    assert [r.success for r in results] == [True, True, True]
    assert {r.area.short_name for r in results} == {"DE_LU", "FR", "NL"}
    assert len(await container.runs.recent()) == 3
    for area in (Area.DE_LU, Area.FR, Area.NL):
        assert await container.points.count(area.eic, "actual_load") == 2 * 96
