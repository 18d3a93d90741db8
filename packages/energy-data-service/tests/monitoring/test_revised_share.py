"""``revised_share`` counts values the stored history shows were replaced, on both backends.

The platform corrects most values in place without raising ``revisionNumber``; a higher
revision that repeats a value changed nothing. Both cases on a real recorded week of load.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from energy_data_service.processors import process_documents
from energy_data_service.quality.checks import revised_share
from energy_data_service.repositories.points import PointRepository
from energy_data_service.repositories.quality import QualityRepository
from entsoe_client import parse_response
from sqlalchemy.ext.asyncio import AsyncEngine

SAMPLES = Path(__file__).resolve().parents[4] / "testdata" / "entsoe-samples"
LOAD = "EuropeanPowerSystems__ENTSOE.jl/test__cassettes__tut_load_actual_BE_week.yml.xml"
F0 = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


async def test_in_place_corrections_count_and_repeated_revisions_do_not(
    engine: AsyncEngine,
) -> None:
    week = process_documents(parse_response((SAMPLES / LOAD).read_bytes()), F0)  # type: ignore[arg-type]
    (area,) = {p.area_code for p in week}
    start, end = week[0].timestamp, week[-1].timestamp + timedelta(minutes=15)
    points, quality = PointRepository(engine), QualityRepository(engine)

    async def share() -> float:
        (observations,) = (await quality.observations(area, "actual_load", start, end)).values()
        assert len(observations) == len(week)
        return revised_share(observations)

    await points.upsert(week)
    assert await share() == 0.0
    # A higher revision number repeating every value: nothing was replaced.
    await points.upsert(
        [p._replace(revision_number=2, fetched_at=F0 + timedelta(hours=1)) for p in week]
    )
    assert await share() == 0.0
    # An in-place correction of every fourth value, revision number unchanged.
    corrected = [
        p._replace(
            revision_number=2,
            document_created_at=F0 + timedelta(hours=2),
            fetched_at=F0 + timedelta(hours=2),
            value=p.value + 10.0 if index % 4 == 0 else p.value,
        )
        for index, p in enumerate(week)
    ]
    await points.upsert(corrected)
    assert await share() == len(range(0, len(week), 4)) / len(week) == 0.25
