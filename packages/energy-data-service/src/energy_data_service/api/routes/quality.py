"""``/api/v1/quality``: the daily quality report and the stored scores per series and day.

A series is one row of the ``series`` catalogue: each production type, border, horizon,
direction and price category has its own report entry and its own stored scores.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel

from energy_data_service.api.bounds import bounded_day
from energy_data_service.api.deps import ApiKeyDep, QualityServiceDep
from energy_data_service.domain import resolve_area, resolve_data_type

router = APIRouter(prefix="/api/v1/quality", tags=["quality"], dependencies=[ApiKeyDep])

MAX_SCORE_DAYS = 366


class Score(BaseModel):
    """One series' stored score for one local day, with the series' whole identity."""

    series_id: int
    area_code: str
    data_type: str
    business_type: str
    resolution: str
    classification_sequence: int
    out_area_code: str
    psr_type: str
    contract_type: str
    flow_direction: str
    price_category: str
    registered_resource: str
    day: date
    score: float
    expected: int
    present: int
    missing: int
    invalid: int
    outliers: int
    flat_points: int
    revised_share: float
    forecast_mape: float | None


@router.get("/report", summary="Quality of every series on one day (computed now, stored)")
async def report(
    service: QualityServiceDep,
    date_: Annotated[
        date | None, Query(alias="date", description="Local day, YYYY-MM-DD (default: yesterday)")
    ] = None,
    area_code: Annotated[list[str] | None, Query(description="Default: COLLECTION__AREAS")] = None,
    data_type: Annotated[
        list[str] | None, Query(description="Default: COLLECTION__DATA_TYPES")
    ] = None,
) -> dict[str, Any]:
    day = bounded_day(date_, "date") if date_ else service.yesterday()
    if day > service.yesterday() + timedelta(days=2):
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            f"date {day.isoformat()} is in the future: no data can be judged for it yet",
        )
    areas = [resolve_area(a).name for a in area_code] if area_code else None
    types = [resolve_data_type(t) for t in data_type] if data_type else None
    result = await service.report(day, areas, types)
    return result.as_json()


@router.get("/scores", response_model=list[Score], summary="Stored daily scores")
async def scores(
    service: QualityServiceDep,
    start_date: Annotated[date | None, Query(description="Default: end_date - 6 days")] = None,
    end_date: Annotated[date | None, Query(description="Default: yesterday")] = None,
    area_code: str | None = None,
    data_type: str | None = None,
) -> list[Score]:
    end = bounded_day(end_date, "end_date") if end_date else service.yesterday()
    start = bounded_day(start_date, "start_date") if start_date else end - timedelta(days=6)
    if start > end:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            f"start_date ({start}) must not be after end_date ({end})",
        )
    if (end - start).days >= MAX_SCORE_DAYS:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            f"at most {MAX_SCORE_DAYS} days per request; narrow start_date..end_date",
        )
    kind = resolve_data_type(data_type) if data_type else None
    rows = await service.scores(start, end, area_code, kind)
    return [Score.model_validate(r, from_attributes=True) for r in rows]
