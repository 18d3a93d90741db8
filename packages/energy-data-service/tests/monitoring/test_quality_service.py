"""DataQualityService on stored data: a real collection of the short DST day, holes punched,
scored, remediated through CollectionService against the platform stand-in, scored again."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from energy_data_service.collectors.entsoe_collector import EntsoeCollector
from energy_data_service.container import Container
from energy_data_service.db.tables import points as points_table
from energy_data_service.domain import EnergyPoint
from energy_data_service.repositories.catalogue import find_series
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


async def test_catalogue_series_are_scored_each_by_their_type_rules(
    monitored: Container, fake_platform: FakePlatform
) -> None:
    """Generation per type of FR collected from the stand-in (solar, wind, pumped storage and
    its consumption), flows and transfer capacities FR←DE_LU: each production type and border
    is scored on its own points; a negative consumption value is valid, a negative solar value
    is not; solar's zeros at night and the capacities' held values are no flat lines; a hole in
    the flows is re-fetched for that border."""
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

        window = (LOCAL_START, LOCAL_END)
        assert (await data_service.collect_range(Area.FR, "generation_per_type", *window)).success
        for kind in ("physical_flows", "net_transfer_capacity"):
            result = await data_service.collect_range(Area.FR, kind, *window, out_area=Area.DE_LU)
            assert result.success, result.error
        generation = await monitored.points.range(Area.FR.eic, "generation_per_type", *window)
        solar = sorted(p for p in generation if p.psr_type == "B16" and not p.out_area_code)
        pumping = [p for p in generation if p.out_area_code == Area.FR.eic]
        night = [p for p in solar if p.timestamp.hour < 4]
        changed = [
            *(p._replace(value=0.0) for p in night),  # solar at night
            solar[-1]._replace(value=-5.0),  # cannot be
            pumping[0]._replace(value=-300.0),  # consumption: any sign
        ]
        await monitored.points.upsert(
            [p._replace(fetched_at=p.fetched_at + timedelta(minutes=1)) for p in changed]
        )
        hole = (datetime(2024, 3, 31, 5, tzinfo=UTC), datetime(2024, 3, 31, 7, tzinfo=UTC))
        async with monitored.engine.begin() as connection:
            flows = await monitored.points.range(Area.FR.eic, "physical_flows", *window)
            c = points_table.c
            await connection.execute(
                delete(points_table).where(
                    c.series_id.in_(
                        {s.id for s in await find_series(connection, Area.FR.eic, "physical_flows")}
                    ),
                    c.timestamp >= hole[0],
                    c.timestamp < hole[1],
                )
            )
        assert len(flows) == 92  # quarter-hours of the 23-hour day

        settings = monitored.settings.model_copy(deep=True)
        settings.collection.data_types = [
            "generation_per_type",
            "physical_flows",
            "net_transfer_capacity",
        ]
        settings.collection.areas = ["FR"]
        quality = DataQualityService(
            repository=QualityRepository(monitored.engine),
            settings=settings.quality,
            collection=settings.collection,
            collection_service=provide,
        )
        report = await quality.report(DAY)
        by_identity = {
            (s.data_type, s.as_json()["psr_type"], s.as_json()["out_area_code"]): s.quality
            for s in report.series
        }
        fr, de_lu = Area.FR.eic, Area.DE_LU.eic
        assert set(by_identity) == {
            ("generation_per_type", "B16", ""),
            ("generation_per_type", "B19", ""),
            ("generation_per_type", "B10", ""),
            ("generation_per_type", "B10", fr),
            ("physical_flows", "", de_lu),
            ("net_transfer_capacity", "", de_lu),
        }
        for key, day in by_identity.items():
            present = 92 - 8 * (key[0] == "physical_flows")  # the flows' two-hour hole
            assert (day.expected, day.present) == (92, present), key
        solar_day = by_identity[("generation_per_type", "B16", "")]
        assert solar_day.invalid == 1  # -5 MW of solar
        assert solar_day.flat_points == 0  # four hours of zeros at night
        assert by_identity[("generation_per_type", "B10", fr)].invalid == 0  # pumping
        ntc = by_identity[("net_transfer_capacity", "", de_lu)]
        assert ntc.score == 100.0
        stored = {
            (s.psr_type, s.out_area_code): s
            for s in await quality.scores(DAY, DAY, "FR", "generation_per_type")
        }
        # One stored score per series (production type, and pumping's consumption series).
        assert set(stored) == {("B16", ""), ("B19", ""), ("B10", ""), ("B10", fr)}
        for (psr, out_area), score in stored.items():
            day_quality = by_identity[("generation_per_type", psr, out_area)]
            assert (score.score, score.present, score.invalid) == (
                day_quality.score,
                day_quality.present,
                day_quality.invalid,
            )
        assert stored[("B16", "")].invalid == 1
        assert stored[("B16", "")].score < stored[("B19", "")].score == 100.0
        series_ids = {s.identity.series_id for s in report.series}
        assert len(series_ids) == len(report.series)  # every entry is its own catalogue row
        flows = await quality.scores(DAY, DAY, "FR", "physical_flows")
        assert [(s.out_area_code, s.present) for s in flows] == [(de_lu, 84)]

        before = len(fake_platform.requests)
        fixed = await quality.remediate(report)
        assert [(f.data_type, f.start, f.end, f.points, f.error) for f in fixed] == [
            ("physical_flows", *hole, 8, None)
        ]
        (asked,) = fake_platform.requests[before:]
        assert asked.params["out_Domain"] == de_lu
