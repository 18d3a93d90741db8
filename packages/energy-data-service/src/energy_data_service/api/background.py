"""Long work started by a request (a backfill) that outlives the request.

Tasks are kept so they are not garbage-collected mid-run and so shutdown can cancel them; a
cancelled backfill stays resumable because its progress is stored per chunk.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any

import structlog

log = structlog.get_logger(__name__)


class DetachedTasks:
    """The tasks of this process that outlive the request that started them.

    Not FastAPI's ``BackgroundTasks``, which run once the response is sent and are awaited
    with the request; these run on their own and are cancelled at shutdown.
    """

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, work: Coroutine[Any, Any, Any], name: str) -> None:
        """Run ``work`` in the background; its failure is logged, never lost silently."""
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background.failed", task=task.get_name(), error=str(task.exception()))

    async def shutdown(self) -> None:
        """Cancel what still runs and wait for it to unwind."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
