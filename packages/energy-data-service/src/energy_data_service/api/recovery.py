"""Backfills left behind by a process that died or stopped are taken up when `serve` starts.

A job whose lease ran out has no worker: with collection on, `serve` claims it (the claim is
atomic, so of several replicas starting together exactly one resumes it) and runs it in the
background from its stored progress; without a token nothing can fetch, so the job is marked
``interrupted`` with the reason, to be resumed later (``energy-data backfill --resume``).
"""

from __future__ import annotations

import structlog

from energy_data_service.api.background import DetachedTasks
from energy_data_service.container import Container

log = structlog.get_logger(__name__)


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
        if await service.claim(job_id):
            background.spawn(service.run_job(job_id), name=f"backfill:{job_id}")
            resumed.append(job_id)
    log.info("backfill.resumed", jobs=resumed)
    return resumed
