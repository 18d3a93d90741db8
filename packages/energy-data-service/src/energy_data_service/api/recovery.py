"""Backfills left behind by a process that died or stopped are taken up while `serve` runs.

A job whose lease ran out has no worker: its process was killed (a CLI backfill, another
`serve`), crashed or stalled. `serve` looks for such jobs at start-up and then every
``BACKFILL__RECOVERY_SECONDS``. With collection on it claims each (the claim is atomic, so of
several replicas exactly one resumes it) and runs it in the background from its stored
progress; without a token nothing can fetch, so the job is marked ``interrupted`` with the
reason, to be resumed later (``energy-data backfill --resume``).
"""

from __future__ import annotations

import asyncio

import structlog

from energy_data_service.api.background import DetachedTasks
from energy_data_service.container import Container

log = structlog.get_logger(__name__)


async def watch_backfills(container: Container, background: DetachedTasks) -> None:
    """A recovery round every ``BACKFILL__RECOVERY_SECONDS`` until cancelled."""
    every = container.settings.backfill.recovery_seconds
    while True:
        await asyncio.sleep(every)
        await recovery_round(container, background)


async def recovery_round(container: Container, background: DetachedTasks) -> None:
    """``recover_backfills``; a round that fails (the database is unreachable) is logged, and
    the next one tries again."""
    try:
        await recover_backfills(container, background)
    except Exception as error:
        log.warning("backfill.recovery_failed", error=str(error))


async def recover_backfills(container: Container, background: DetachedTasks) -> list[int]:
    """Resume or mark ``interrupted`` every orphaned backfill; returns the resumed job ids."""
    orphans = await container.backfills.orphaned_jobs()
    if not orphans:
        return []
    if container.settings.entsoe.token is None:
        for job_id in orphans:
            await container.backfills.interrupt_job(
                job_id, "interrupted: its process stopped, and no ENTSOE__API_TOKEN to resume it"
            )
        log.warning("backfill.interrupted", jobs=orphans)
        return []
    service = await container.backfill_service()
    resumed = []
    for job_id in orphans:
        owner = await service.claim(job_id)
        if owner is not None:
            background.spawn(service.run_job(job_id, owner=owner), name=f"backfill:{job_id}")
            resumed.append(job_id)
    if resumed:
        log.info("backfill.resumed", jobs=resumed)
    return resumed
