"""Requests per series-year for every data type of the catalogue, against the platform's floor.

For each type, one series-year (one area, or one border, over the local year 2025 in Brussels)
is fetched with the real client from the platform stand-in (HTTP on loopback, pacing off), and
the platform requests it sent are counted. Side by side in the same run:

- floor: the fewest requests the platform's documented limits allow, computed here on its own
  (greedy cover of the UTC range, each request ending at most the type's limit after its UTC
  start, calendar months counted in UTC as the platform counts them; paged types: at most 100
  documents per answer), not from the client's planner;
- one day per request: what round 1 planned for generation per type (the baseline the issue
  measured, 365 requests per zone-year), shown for every type for scale.

Goal: measured ≤ 1.25 × floor for every type. Run with `uv run python bench/requests_per_year.py`.
"""

from __future__ import annotations

import asyncio
import calendar
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from entsoe_client import PLATFORM_TABLE, DataType, EntsoeClient, Query, parse_document
from entsoe_client.testing import FakePlatform, generate_document

BRUSSELS = ZoneInfo("Europe/Brussels")
YEAR_START = datetime(2025, 1, 1, tzinfo=BRUSSELS).astimezone(UTC)
YEAR_END = datetime(2026, 1, 1, tzinfo=BRUSSELS).astimezone(UTC)


def _add_utc_months(moment: datetime, months: int) -> datetime:
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def floor_requests(data_type: DataType, series_per_day: int) -> int:
    """The fewest requests covering the year under the type's documented limit: the span per
    request, and for paged types 100 instances (daily series) per answer."""
    span = PLATFORM_TABLE[data_type].max_span
    if PLATFORM_TABLE[data_type].paged:
        span = type(span)(days=100)  # the documented limit, not the client's 99-day plan
    count, start = 0, YEAR_START
    while start < YEAR_END:
        end = _add_utc_months(start, span.months) if span.months else start
        end += timedelta(days=span.days)
        start, count = min(end, YEAR_END), count + 1
    if PLATFORM_TABLE[data_type].paged:
        days = (YEAR_END - YEAR_START) // timedelta(days=1)
        count = max(count, -(-days * series_per_day // 100))
    return count


def series_per_day(data_type: DataType) -> int:
    """How many series the stand-in answers for one local day (the instances of a day)."""
    rule = PLATFORM_TABLE[data_type]
    area, out_area = ("FR", "DE_LU") if rule.out_area_param else ("FR", None)
    day = datetime(2025, 3, 3, tzinfo=BRUSSELS).astimezone(UTC)
    query = Query.build(data_type, area, day, day + timedelta(days=1), out_area=out_area)
    params = query.to_params(query.start, query.end)
    return len(parse_document(generate_document(params)).series)


async def measured_requests(data_type: DataType) -> int:
    """Platform requests the client sends for one series-year of ``data_type``."""
    rule = PLATFORM_TABLE[data_type]
    area, out_area = ("FR", "DE_LU") if rule.out_area_param else ("FR", None)
    query = Query.build(data_type, area, YEAR_START, YEAR_END, out_area=out_area)
    with FakePlatform(token="bench") as platform:
        platform.resolution = "PT60M"
        async with EntsoeClient(
            "bench", base_url=platform.url, requests_per_minute=None, concurrency=4
        ) as client:
            async for _chunk in client.iter_chunks(query):
                pass
        return len(platform.requests)


async def main() -> None:
    print(f"{'data type':<30} {'limit':>9} {'measured':>9} {'floor':>6} {'ratio':>6} {'1 day':>6}")
    worst = 0.0
    for data_type in DataType:
        measured = await measured_requests(data_type)
        floor = floor_requests(data_type, series_per_day(data_type))
        ratio = measured / floor
        worst = max(worst, ratio)
        limit = str(PLATFORM_TABLE[data_type].max_span)
        print(f"{data_type.value:<30} {limit:>9} {measured:>9} {floor:>6} {ratio:>6.2f} {365:>6}")
    print(f"worst ratio {worst:.2f} (goal ≤ 1.25)")


if __name__ == "__main__":
    asyncio.run(main())
