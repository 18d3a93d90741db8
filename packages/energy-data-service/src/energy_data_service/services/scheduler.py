"""The collection schedule: which job runs when, retries, and the record of every execution.

APScheduler 3's ``AsyncIOScheduler`` fires the triggers; it keeps its jobs in memory only. The
persistent ``SQLAlchemyJobStore`` is synchronous (it fails at start-up when handed the async
URL), so the guarantee a persistent store gives is kept another way: every
execution is a row in ``job_executions`` and at start-up each job whose trigger would have fired
since its last recorded start runs once at once (missed runs coalesce into one). The table is
the same on SQLite and PostgreSQL and doubles as the queryable history behind ``/api/v1/jobs``.

A failed attempt is retried after an exponentially growing pause up to ``max_attempts``; each
attempt is its own row so the history shows what happened. ``stop`` lets running jobs finish for
a bounded time, then cancels them (recorded as ``cancelled``).

Each job runs in the leader term it started in (``writes_fenced_by``): once a newer term exists
its writes are refused (``TermOverError``) and the job ends ``cancelled`` with the reason, not
retried — the new leader runs the schedule now. A retry due after this process lost the lead
is not made either.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from energy_data_service.errors import TermOverError, UnknownJobError
from energy_data_service.repositories.job_executions import JobExecution, JobExecutionRepository
from energy_data_service.repositories.leader_terms import writes_fenced_by

log = structlog.get_logger(__name__)

JobRun = Callable[[], Awaitable[int]]
"""One run of a job: does the work and answers how many points it stored."""


@dataclass(frozen=True)
class ScheduledJob:
    """A named unit of work and when it runs (an interval or one or more daily UTC times)."""

    id: str
    description: str
    run: JobRun
    every: timedelta | None = None
    daily_at_utc: tuple[tuple[int, int], ...] = ()

    def triggers(self) -> list[BaseTrigger]:
        """APScheduler triggers for this job, all in UTC."""
        if self.every is not None:
            return [IntervalTrigger(seconds=self.every.total_seconds(), timezone=UTC)]
        return [
            CronTrigger(hour=hour, minute=minute, timezone=UTC)
            for hour, minute in self.daily_at_utc
        ]

    def schedule_text(self) -> str:
        """How a person would say when the job runs."""
        if self.every is not None:
            seconds = int(self.every.total_seconds())
            if seconds % 3600 == 0:
                return f"every {seconds // 3600} h"
            if seconds % 60 == 0:
                return f"every {seconds // 60} min"
            return f"every {seconds} s"
        return "daily at " + ", ".join(f"{h:02d}:{m:02d} UTC" for h, m in self.daily_at_utc)

    def missed_since(self, last_start: datetime | None, now: datetime) -> bool:
        """Whether a run was due between the last recorded start and now (a restart gap).

        Interval jobs that never ran are due at once (collection starts on first boot); daily
        jobs that never ran wait for their time.
        """
        if self.every is not None:
            return last_start is None or now - last_start >= self.every
        if last_start is None:
            return False
        for trigger in self.triggers():
            due = trigger.get_next_fire_time(None, last_start + timedelta(seconds=1))
            if due is not None and due <= now:
                return True
        return False


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: attempt n waits ``base * 2**(n-1)`` seconds, capped at ``cap``."""

    max_attempts: int = 4
    base_seconds: float = 30.0
    cap_seconds: float = 1800.0

    def delay_before(self, attempt: int) -> float:
        """Seconds to wait before ``attempt`` (2, 3, …)."""
        return float(min(self.cap_seconds, self.base_seconds * 2 ** (attempt - 2)))


@dataclass(frozen=True)
class JobStatus:
    """What ``/api/v1/jobs`` shows for one job."""

    id: str
    description: str
    schedule: str
    next_run_at: datetime | None
    running: bool
    last_execution: JobExecution | None


class SchedulerService:
    """Runs the collection jobs on their schedule in the current event loop.

    Only the leader replica calls ``start``; every replica can list jobs and their history (read
    from the table, so followers show what the leader did).
    """

    def __init__(
        self,
        jobs: list[ScheduledJob],
        executions: JobExecutionRepository,
        retry: RetryPolicy | None = None,
        shutdown_grace_seconds: float = 30.0,
    ) -> None:
        self._jobs = {job.id: job for job in jobs}
        self._executions = executions
        self._retry = retry or RetryPolicy()
        self._grace = shutdown_grace_seconds
        self._scheduler: AsyncIOScheduler | None = None
        self._running: dict[str, asyncio.Task[None]] = {}
        self.fencing_token: Callable[[], str | None] = lambda: None
        """The leader's current fencing token, recorded with each execution (set by the
        composition root)."""
        self.leader_term: Callable[[], int | None] = lambda: None
        """The leader's current term: each job runs in the term it started in, and its writes
        are refused once the term is over (set by the composition root; None: unfenced)."""

    @property
    def is_running(self) -> bool:
        """True while this process runs the schedule (it is the leader)."""
        return self._scheduler is not None

    @property
    def job_ids(self) -> list[str]:
        """Ids of every job in the schedule."""
        return list(self._jobs)

    async def start(self) -> None:
        """Register the triggers and catch up on runs missed while no scheduler ran."""
        if self._scheduler is not None:
            return
        scheduler = AsyncIOScheduler(timezone=UTC)
        for job in self._jobs.values():
            for index, trigger in enumerate(job.triggers()):
                scheduler.add_job(
                    self._fire,
                    trigger,
                    args=[job.id],
                    id=f"{job.id}#{index}",
                    name=job.description,
                    max_instances=1,
                    coalesce=True,
                    misfire_grace_time=None,
                )
        scheduler.start()
        self._scheduler = scheduler
        now = datetime.now(UTC)
        last_starts = await self._executions.last_starts()
        for job in self._jobs.values():
            if job.missed_since(last_starts.get(job.id), now):
                log.info("scheduler.catch_up", job=job.id, last_start=last_starts.get(job.id))
                self._launch(job.id, trigger="catch_up")
        log.info("scheduler.started", jobs=list(self._jobs))

    async def stop(self) -> None:
        """Stop firing; let running jobs finish within the grace period, then cancel them."""
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        running = list(self._running.values())
        if running:
            log.info("scheduler.waiting_for_jobs", jobs=list(self._running), grace=self._grace)
            _, pending = await asyncio.wait(running, timeout=self._grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=5)
        if scheduler is not None:
            log.info("scheduler.stopped")

    def trigger(self, job_id: str) -> bool:
        """Run a job now (in the background); False when it is already running."""
        if job_id not in self._jobs:
            raise UnknownJobError(job_id, self.job_ids)
        if job_id in self._running:
            return False
        self._launch(job_id, trigger="manual")
        return True

    async def status(self) -> list[JobStatus]:
        """Every job with its next fire time (leader only) and its last recorded execution."""
        latest = await self._executions.latest_per_job()
        result = []
        for job in self._jobs.values():
            next_run = None
            if self._scheduler is not None:
                times = [
                    scheduled.next_run_time
                    for scheduled in self._scheduler.get_jobs()
                    if scheduled.id.split("#")[0] == job.id and scheduled.next_run_time
                ]
                next_run = min(times).astimezone(UTC) if times else None
            result.append(
                JobStatus(
                    id=job.id,
                    description=job.description,
                    schedule=job.schedule_text(),
                    next_run_at=next_run,
                    running=job.id in self._running,
                    last_execution=latest.get(job.id),
                )
            )
        return result

    async def _fire(self, job_id: str) -> None:
        """APScheduler's entry point; a run still going (e.g. retrying) absorbs the new one."""
        if job_id in self._running:
            log.info("scheduler.skip_overlap", job=job_id)
            return
        self._launch(job_id, trigger="schedule")
        with contextlib.suppress(asyncio.CancelledError):
            await self._running[job_id]

    def _launch(self, job_id: str, trigger: str) -> None:
        task = asyncio.create_task(self._run_with_retries(job_id, trigger), name=f"job:{job_id}")
        self._running[job_id] = task
        task.add_done_callback(lambda _: self._running.pop(job_id, None))

    async def _run_with_retries(self, job_id: str, trigger: str) -> None:
        job = self._jobs[job_id]
        term = self.leader_term()
        for attempt in range(1, self._retry.max_attempts + 1):
            if attempt > 1:
                await asyncio.sleep(self._retry.delay_before(attempt))
                if self.leader_term() != term:
                    log.info("scheduler.retry_dropped", job=job.id, term=term, reason="term over")
                    return
            execution_id = await self._executions.start(
                job.id, attempt=attempt, trigger=trigger, fencing_token=self.fencing_token()
            )
            try:
                with writes_fenced_by(term):
                    points = await job.run()
            except TermOverError as error:
                await self._executions.finish(
                    execution_id, "cancelled", error=str(error), error_class=type(error).__name__
                )
                log.warning("scheduler.job_term_over", job=job.id, term=term, error=str(error))
                return
            except asyncio.CancelledError:
                await asyncio.shield(
                    self._executions.finish(execution_id, "cancelled", error="shut down")
                )
                raise
            except Exception as error:
                last = attempt == self._retry.max_attempts
                await self._executions.finish(
                    execution_id, "failed", error=_describe(error), error_class=type(error).__name__
                )
                log.warning(
                    "scheduler.job_failed",
                    job=job.id,
                    attempt=attempt,
                    final=last,
                    error=_describe(error),
                )
                continue
            await self._executions.finish(execution_id, "success", points=points)
            log.info("scheduler.job_done", job=job.id, attempt=attempt, points=points)
            return


def _describe(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    return text[:2000]
