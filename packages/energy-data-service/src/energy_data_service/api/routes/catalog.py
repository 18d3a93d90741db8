"""``/api/v1/catalog``: which areas and data types exist here, and which series are stored.

A client that draws the data (the dashboard, a notebook) needs the list of stored series with
their bounds, each area's local time zone and whether collection can run, before it asks for
any points; coverage and health answer for the configured series only, so imported ones would
stay invisible without this.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel
from service_common import Timestamp

from energy_data_service.api.deps import ApiKeyDep, CollectionOffReasonDep, PointsDep, SettingsDep
from energy_data_service.domain import DATA_TYPES, area_label, area_time_zone, resolve_area

router = APIRouter(prefix="/api/v1/catalog", tags=["catalog"], dependencies=[ApiKeyDep])


class CatalogArea(BaseModel):
    area_code: str
    area: str
    time_zone: str
    configured: bool


class CatalogDataType(BaseModel):
    name: str
    configured: bool
    stored: bool


class StoredSeries(BaseModel):
    area_code: str
    area: str
    data_type: str
    business_type: str
    resolution: str
    classification_sequence: int
    first: Timestamp
    last: Timestamp
    points: int


class Collection(BaseModel):
    on: bool
    reason: str | None
    token_configured: bool


class Catalog(BaseModel):
    areas: list[CatalogArea]
    data_types: list[CatalogDataType]
    series: list[StoredSeries]
    collection: Collection


@router.get(
    "",
    response_model=Catalog,
    summary="Configured and stored areas and data types, stored series with their bounds",
)
async def get_catalog(
    settings: SettingsDep, points: PointsDep, collection_off: CollectionOffReasonDep
) -> Catalog:
    """Areas list the configured ones first (``COLLECTION__AREAS``), then any others stored."""
    bounds = await points.series_bounds()
    configured_areas = [resolve_area(name).eic for name in settings.collection.areas]
    area_codes = list(dict.fromkeys([*configured_areas, *(b.area_code for b in bounds)]))
    stored_types = {b.data_type for b in bounds}
    return Catalog(
        areas=[
            CatalogArea(
                area_code=code,
                area=area_label(code),
                time_zone=area_time_zone(code).key,
                configured=code in configured_areas,
            )
            for code in area_codes
        ],
        data_types=[
            CatalogDataType(
                name=name,
                configured=name in settings.collection.data_types,
                stored=name in stored_types,
            )
            for name in dict.fromkeys([*DATA_TYPES, *sorted(stored_types)])
        ],
        series=[
            StoredSeries(
                area_code=b.area_code,
                area=area_label(b.area_code),
                data_type=b.data_type,
                business_type=b.business_type,
                resolution=b.resolution,
                classification_sequence=b.classification_sequence,
                first=b.first,
                last=b.last,
                points=b.points,
            )
            for b in bounds
        ],
        collection=Collection(
            on=collection_off is None,
            reason=collection_off,
            token_configured=settings.entsoe.token is not None,
        ),
    )
