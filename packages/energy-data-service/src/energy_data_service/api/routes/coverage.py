"""``/api/v1/coverage``: per area × data type, how much of a window is stored and its holes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel
from service_common import Timestamp

from energy_data_service.api.deps import ApiKeyDep, PointsDep, SettingsDep
from energy_data_service.coverage import fraction_covered, holes
from energy_data_service.domain import resolve_area, resolve_data_type, utc

router = APIRouter(prefix="/api/v1/coverage", tags=["coverage"], dependencies=[ApiKeyDep])


class Gap(BaseModel):
    start: Timestamp
    end: Timestamp


class SeriesCoverage(BaseModel):
    """One stored series (each border direction and production type on its own)."""

    area_code: str
    area: str
    data_type: str
    percent_complete: float
    gaps: list[Gap]
    out_area_code: str = ""
    """Directional data: the area the energy comes from; generation: the area itself marks a
    consumption series."""
    psr_type: str = ""
    contract_type: str = ""
    """Horizon of exchanges and capacities (A01 day-ahead … A05 total)."""
    flow_direction: str = ""
    """Balancing: A01 up, A02 down."""
    price_category: str = ""
    """Imbalance prices: A04 long, A05 short."""


_IDENTITY = ("out_area_code", "psr_type", "contract_type", "flow_direction", "price_category")


class Coverage(BaseModel):
    start_time: Timestamp
    end_time: Timestamp
    series: list[SeriesCoverage]


@router.get("", response_model=Coverage, summary="Completeness and gaps per area × data type")
async def get_coverage(
    settings: SettingsDep,
    points: PointsDep,
    area_code: Annotated[
        list[str] | None, Query(description="Areas (default: COLLECTION__AREAS)")
    ] = None,
    data_type: Annotated[
        list[str] | None, Query(description="Data types (default: COLLECTION__DATA_TYPES)")
    ] = None,
    start_time: Annotated[
        datetime | None, Query(description="Default: end - COLLECTION__LOOKBACK_DAYS")
    ] = None,
    end_time: Annotated[datetime | None, Query(description="Default: now")] = None,
) -> Coverage:
    """Holes are measured at each series' own resolution (a DST day has 92 or 100 quarter-hours).
    Forecasts published ahead are checked only up to ``end_time``."""
    collection = settings.collection
    try:
        areas = [resolve_area(name) for name in (area_code or collection.areas)]
        kinds = [resolve_data_type(name) for name in (data_type or collection.data_types)]
        end = utc(end_time) if end_time is not None else datetime.now(UTC)
        start = (
            utc(start_time)
            if start_time is not None
            else end - timedelta(days=collection.lookback_days)
        )
    except OverflowError:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, "start_time/end_time out of range"
        ) from None
    except ValueError as error:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(error)) from None
    if start >= end:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "start_time must be before end_time")
    if end - start > timedelta(days=366 * 5):
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, "the window is longer than 5 years: narrow it"
        )
    result = []
    for area in areas:
        zone = ZoneInfo(area.tz_name)
        for kind in kinds:
            stored = await points.series_bounds(area.eic, kind)
            identities = sorted(
                {tuple(getattr(b, name) for name in _IDENTITY) for b in stored}
            ) or [("",) * len(_IDENTITY)]
            for values in identities:  # each border, production type, horizon … apart
                identity = dict(zip(_IDENTITY, values, strict=True))
                present = await points.present_intervals(area.eic, kind, start, end, **identity)
                found = holes(present, start, end, zone)
                result.append(
                    SeriesCoverage(
                        area_code=area.eic,
                        area=str(area.short_name),
                        data_type=kind,
                        **identity,
                        percent_complete=round(100 * fraction_covered(found, start, end), 3),
                        gaps=[Gap(start=a, end=b) for a, b in found],
                    )
                )
    return Coverage(start_time=start, end_time=end, series=result)
