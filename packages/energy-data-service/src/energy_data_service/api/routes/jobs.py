"""``/api/v1/jobs``: the collection schedule, each job's last outcome, history, run-now."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel
from service_common import Timestamp

from energy_data_service.api.deps import (
    ApiKeyDep,
    CollectionOffReasonDep,
    JobExecutionsDep,
    SchedulerDep,
)
from energy_data_service.errors import UnknownJobError
from energy_data_service.repositories.job_executions import JobExecution

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"], dependencies=[ApiKeyDep])


class Execution(BaseModel):
    id: int
    job_id: str
    trigger: str
    attempt: int
    instance: str
    started_at: Timestamp
    finished_at: Timestamp | None
    outcome: str
    points: int | None
    error_class: str | None
    error: str | None


class Job(BaseModel):
    id: str
    description: str
    schedule: str
    next_run_at: Timestamp | None
    running: bool
    last_execution: Execution | None


class Triggered(BaseModel):
    job_id: str
    status: str


def _execution(row: JobExecution | None) -> Execution | None:
    return Execution.model_validate(row, from_attributes=True) if row is not None else None


@router.get("", response_model=list[Job], summary="Scheduled jobs, next run and last outcome")
async def list_jobs(scheduler: SchedulerDep) -> list[Job]:
    """``next_run_at`` is known on the replica that runs the schedule (the leader) only."""
    return [
        Job(
            id=job.id,
            description=job.description,
            schedule=job.schedule,
            next_run_at=job.next_run_at,
            running=job.running,
            last_execution=_execution(job.last_execution),
        )
        for job in await scheduler.status()
    ]


@router.get("/executions", response_model=list[Execution], summary="Execution history")
async def list_executions(
    executions: JobExecutionsDep,
    scheduler: SchedulerDep,
    job_id: str | None = None,
    outcome: Literal["running", "success", "failed", "cancelled"] | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[Execution]:
    if job_id is not None and job_id not in scheduler.job_ids:
        raise UnknownJobError(job_id, scheduler.job_ids)
    rows = await executions.history(job_id=job_id, outcome=outcome, limit=limit)
    return [Execution.model_validate(row, from_attributes=True) for row in rows]


@router.post(
    "/{job_id}/run",
    response_model=Triggered,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Run a job now (on the replica that runs the schedule)",
    responses={404: {"description": "Unknown job"}, 409: {"description": "Cannot run here"}},
)
async def run_job(
    job_id: str, scheduler: SchedulerDep, collection_off: CollectionOffReasonDep
) -> Triggered:
    if job_id not in scheduler.job_ids:
        raise UnknownJobError(job_id, scheduler.job_ids)
    if collection_off is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, collection_off)
    if not scheduler.is_running:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            "this replica does not run the schedule (another replica is the leader): "
            "send the request to the leader, see /api/v1/health",
        )
    if not scheduler.trigger(job_id):
        raise HTTPException(status.HTTP_409_CONFLICT, f"job {job_id!r} is already running")
    return Triggered(job_id=job_id, status="started")
