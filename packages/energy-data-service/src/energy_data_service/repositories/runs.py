"""All SQL for ``collection_runs``: one metrics row per run × area × data type.

Every collection path (collect, gap fill, backfill, import, scheduled) writes one row when it
finishes, successful or not; monitoring reads success rates and latencies from here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import datetime

import structlog
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from energy_data_service.db.tables import collection_runs

log = structlog.get_logger(__name__)

RUN_KINDS = ("collect", "gap_fill", "backfill", "import", "scheduled")


@dataclass(frozen=True, slots=True)
class CollectionRun:
    """Outcome and timings of one run for one area × data type."""

    run_kind: str
    area_code: str
    data_type: str
    window_start: datetime | None
    window_end: datetime | None
    started_at: datetime
    finished_at: datetime
    points: int
    success: bool
    error_class: str | None = None
    error_text: str | None = None
    platform_response_ms: float | None = None
    processing_ms: float | None = None


RunListener = Callable[[CollectionRun], Awaitable[None]]
"""Called after a run is stored (alerting evaluates its rules); must not block for long."""


class RunRepository:
    """Writes and reads collection run metrics; tells ``listeners`` about every stored run."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self.listeners: list[RunListener] = []

    async def record(self, run: CollectionRun) -> int:
        """Store one run; returns its id. A failing listener is logged, never raised."""
        async with self._engine.begin() as connection:
            result = await connection.execute(insert(collection_runs).values(**asdict(run)))
            (run_id,) = result.inserted_primary_key or (0,)
        for listener in self.listeners:
            try:
                await listener(run)
            except Exception:
                log.exception("runs.listener_failed", listener=repr(listener))
        return int(run_id)

    async def recent(
        self, limit: int = 100, area_code: str | None = None, data_type: str | None = None
    ) -> list[CollectionRun]:
        """The newest runs first."""
        c = collection_runs.c
        query = select(collection_runs).order_by(c.started_at.desc(), c.id.desc()).limit(limit)
        if area_code is not None:
            query = query.where(c.area_code == area_code)
        if data_type is not None:
            query = query.where(c.data_type == data_type)
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [CollectionRun(**{k: v for k, v in row.items() if k != "id"}) for row in rows]
