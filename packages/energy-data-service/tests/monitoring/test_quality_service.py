"""DataQualityService on stored data: a real collection of the short DST day, holes punched,
scored, remediated through CollectionService against the platform stand-in, scored again."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from energy_data_service.collectors.entsoe_collector import EntsoeCollector
from energy_data_service.container import Container
from energy_data_service.db.tables import points as points_table
from energy_data_service.domain import EnergyPoint
from energy_data_service.repositories.quality import QualityRepository
from energy_data_service.services.collection import CollectionService
from energy_data_service.services.quality_reports import DataQualityService
from entsoe_client import Area, EntsoeClient
from entsoe_client.testing import FakePlatform
from sqlalchemy import delete

from .conftest import TOKEN

DAY = date(2024, 3, 31)
LOCAL_START = datetime(2024, 3, 30, 23, tzinfo=UTC)
LOCAL_END = datetime(2024, 3, 31, 22, tzinfo=UTC)


async def test_gaps_are_scored_then_refetched(monitored: Container, fake_platform: FakePlatform):
    fake_platform.resolution = "PT15M"
    client = EntsoeClient(TOKEN, base_url=fake_platform.url, requests_per_minute=None)
    async with client:
        data_service = CollectionService(
            collector=EntsoeCollector(client),
            points=monitored.points,
            runs=monitored.runs,
            collection=monitored.settings.collection,
        )

        async def provide() -> CollectionService:
            return data_service

        result = await data_service.collect_range(Area.DE_LU, "actual_load", LOCAL_START, LOCAL_END)
        assert result.success, result.error
        hole = (datetime(2024, 3, 31, 5, tzinfo=UTC), datetime(2024, 3, 31, 7, tzinfo=UTC))
        async with monitored.engine.begin() as connection:
            c = points_table.c
            await connection.execute(
                delete(points_table).where(c.timestamp >= hole[0], c.timestamp < hole[1])
            )
        quality = DataQualityService(
            repository=QualityRepository(monitored.engine),
            settings=monitored.settings.quality,
            collection=monitored.settings.collection,
            collection_service=provide,
        )
        report = await quality.report(DAY)
        [series] = report.series
        assert (series.quality.expected, series.quality.present) == (92, 84)
        assert series.gaps == [hole]
        assert series.quality.score == 95.4  # (50·84/92 + 45) / 95 = 0.9542
        assert series.trend is None

        before = len(fake_platform.requests)
        [fixed] = await quality.remediate(report)
        assert (fixed.start, fixed.end, fixed.points, fixed.error) == (*hole, 8, None)
        asked = [r.period for r in fake_platform.requests[before:]]
        assert asked == [hole]

        again = await quality.report(DAY)
        [series] = again.series
        assert (series.quality.present, series.quality.missing, series.quality.score) == (
            92,
            [],
            100.0,
        )
        # The first score of the day is replaced, so there is no earlier day to trend against.
        assert series.trend is None
        next_day = await quality.report(DAY + timedelta(days=1))
        [series] = next_day.series
        assert series.quality.present == 0
        assert series.trend == -100.0


async def test_a_series_replaced_by_another_resolution_is_not_scored_as_missing(
    monitored: Container,
):
    """Day-ahead prices moved from PT60M to PT15M (SDAC, 2025-10-01): only the live one counts."""
    fetched = datetime(2025, 10, 2, tzinfo=UTC)
    eic = "10Y1001A1001A82H"

    def price(resolution: str, start: datetime, count: int, step: timedelta) -> list[EnergyPoint]:
        return [
            EnergyPoint(
                eic,
                "day_ahead_prices",
                "A62",
                resolution,
                1,
                start + i * step,
                80.0 + i % 7,
                "EUR/MWH",
                "A01",
                "doc",
                1,
                fetched,
                fetched,
            )
            for i in range(count)
        ]

    # 2025-09-30 and 2025-10-01 are local Berlin days starting at 22:00 UTC the day before.
    await monitored.points.upsert(
        price("PT60M", datetime(2025, 9, 29, 22, tzinfo=UTC), 24, timedelta(hours=1))
        + price("PT15M", datetime(2025, 9, 30, 22, tzinfo=UTC), 96, timedelta(minutes=15))
    )
    report = await monitored.quality_service.report(
        date(2025, 10, 1), ["DE_LU"], ["day_ahead_prices"]
    )
    assert [(s.resolution, s.quality.present, s.quality.score) for s in report.series] == [
        ("PT15M", 96, 100.0)
    ]
    before = await monitored.quality_service.report(
        date(2025, 9, 30), ["DE_LU"], ["day_ahead_prices"]
    )
    assert [(s.resolution, s.quality.present) for s in before.series] == [("PT60M", 24)]
