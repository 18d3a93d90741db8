"""``/api/v1/backfill``: start a history backfill in the background, list, inspect, cancel.

Without an ENTSO-E token a start is refused at once (409 naming ``ENTSOE__API_TOKEN``, from
``MissingTokenError``) before a job is stored: nothing could fetch it.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, status
from pydantic import BaseModel, Field, field_validator
from service_common import Timestamp

from energy_data_service.api.bounds import bounded_time, is_row_id
from energy_data_service.api.deps import (
    ApiKeyDep,
    BackfillsDep,
    DetachedTasksDep,
    OpenBackfillServiceDep,
    SettingsDep,
)
from energy_data_service.domain import resolve_area, resolve_border, resolve_data_type
from energy_data_service.repositories.backfill import BackfillJob, BackfillRepository
from energy_data_service.series_domains import is_directional
from energy_data_service.services.backfill import BackfillService

router = APIRouter(prefix="/api/v1/backfill", tags=["backfill"], dependencies=[ApiKeyDep])


class BackfillRequest(BaseModel):
    areas: list[str] = Field(min_length=1, max_length=50, examples=[["DE_LU"]])
    data_types: list[str] = Field(min_length=1, max_length=7, examples=[["actual_load"]])
    start: datetime = Field(description="ISO 8601; no offset means UTC")
    end: datetime = Field(description="Exclusive; ISO 8601; no offset means UTC")
    borders: list[str] = Field(
        default_factory=list,
        max_length=50,
        description="FROM>TO pairs (DE_LU>FR: energy from DE_LU into FR) for the directional "
        "data types (physical_flows, scheduled_exchanges, net_transfer_capacity, "
        "offered_capacity); default COLLECTION__BORDERS",
        examples=[["DE_LU>FR"]],
    )

    @field_validator("start", "end", mode="before")
    @classmethod
    def _finite(cls, value: Any) -> Any:
        """A number is read as a Unix time; NaN and infinities are not times at all."""
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("must be an ISO 8601 time, not a non-finite number")
        return value


class Backfill(BaseModel):
    id: int
    areas: list[str]
    data_types: list[str]
    start: Timestamp
    end: Timestamp
    status: str
    created_at: Timestamp
    finished_at: Timestamp | None
    cancelled: bool
    error: str | None
    borders: list[list[str]] | None = Field(
        default=None, description="[area, out_area] EIC pairs of its directional data types"
    )
    owner: str | None = Field(default=None, description="host:pid working on it")
    lease_until: Timestamp | None = Field(
        default=None, description="running only while its owner renews this lease"
    )
    chunks: dict[str, int] | None = None


def _view(job: BackfillJob, chunks: dict[str, int] | None = None) -> Backfill:
    return Backfill.model_validate(
        {**{f: getattr(job, f) for f in BackfillJob.__dataclass_fields__}, "chunks": chunks}
    )


@router.post(
    "",
    response_model=Backfill,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Start a backfill (runs in the background; resumable)",
    responses={409: {"description": "No ENTSOE__API_TOKEN: nothing could fetch it"}},
)
async def start_backfill(
    body: Annotated[BackfillRequest, Body()],
    settings: SettingsDep,
    backfills: BackfillsDep,
    open_service: OpenBackfillServiceDep,
    background: DetachedTasksDep,
) -> Backfill:
    try:
        resolved = [resolve_area(name) for name in body.areas]
        kinds = [resolve_data_type(name) for name in body.data_types]
        pairs = body.borders or list(settings.collection.borders)
        borders = [(target, source) for source, target in map(resolve_border, pairs)]
    except ValueError as error:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(error)) from None
    directional = [kind for kind in kinds if is_directional(kind)]
    if directional and not borders:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            f"{directional[0]} is directional: give borders, FROM>TO pairs such as "
            '["DE_LU>FR"] (energy from DE_LU into FR), or set COLLECTION__BORDERS',
        )
    start, end = bounded_time(body.start, "start"), bounded_time(body.end, "end")
    if start >= end:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "start must be before end")
    limits = settings.backfill
    if (end - start).days >= limits.max_span_days:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            f"start..end spans {(end - start).days} days; at most {limits.max_span_days} days "
            "per backfill (BACKFILL__MAX_SPAN_DAYS): split the range into several requests",
        )
    planned = sum(
        len(BackfillService.plan(area, kind, start, end))
        for area in resolved
        for kind in kinds
        if kind not in directional
    ) + sum(
        len(BackfillService.plan(area, kind, start, end, out_area))
        for area, out_area in borders
        for kind in directional
    )
    if planned > limits.max_chunks:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            f"this backfill would send {planned} chunks (platform requests); at most "
            f"{limits.max_chunks} per backfill (BACKFILL__MAX_CHUNKS): narrow the range, "
            "areas or data types",
        )
    areas = [area.eic for area in resolved]
    service = await open_service()  # MissingTokenError (409) before anything is stored
    job_id = await backfills.create_job(
        areas,
        kinds,
        start,
        end,
        lease_seconds=limits.lease_seconds,
        borders=[[area.eic, out_area.eic] for area, out_area in borders if directional] or None,
    )
    background.spawn(service.run_job(job_id), name=f"backfill:{job_id}")
    job = await backfills.get_job(job_id)
    assert job is not None
    return _view(job)


@router.get("", response_model=list[Backfill], summary="Recent backfills, newest first")
async def list_backfills(backfills: BackfillsDep) -> list[Backfill]:
    return [_view(job) for job in await backfills.list_jobs()]


async def _job_or_404(backfills: BackfillRepository, job_id: int) -> BackfillJob:
    job = await backfills.get_job(job_id) if is_row_id(job_id) else None
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no backfill with id {job_id}")
    return job


@router.get("/{job_id}", response_model=Backfill, summary="One backfill with chunk progress")
async def get_backfill(job_id: int, backfills: BackfillsDep) -> Backfill:
    job = await _job_or_404(backfills, job_id)
    return _view(job, await backfills.chunk_counts(job_id))


@router.post(
    "/{job_id}/cancel",
    response_model=Backfill,
    summary="Stop a backfill: a running one after its current chunk, an interrupted one at once",
)
async def cancel_backfill(job_id: int, backfills: BackfillsDep) -> Backfill:
    await _job_or_404(backfills, job_id)
    if not await backfills.cancel_job(job_id):
        raise HTTPException(status.HTTP_409_CONFLICT, f"backfill {job_id} has already ended")
    job = await _job_or_404(backfills, job_id)
    return _view(job)
