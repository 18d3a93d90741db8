"""SQL behind ``/api/v1/health``: is the database answering, and when did each series last
collect successfully."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from energy_data_service.db.tables import collection_runs


@dataclass(frozen=True)
class SeriesFreshness:
    """Last successful collection run of one area × data type."""

    area_code: str
    data_type: str
    last_success_at: datetime


class HealthRepository:
    """Cheap queries that tell whether the service can do its job."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @property
    def backend(self) -> str:
        """The database in use (``postgresql`` or ``sqlite``), as health reports it."""
        return self._engine.dialect.name

    async def ping(self) -> None:
        """Raise when the database does not answer ``SELECT 1`` within three seconds."""
        async with asyncio.timeout(3), self._engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def last_successful_collections(self) -> list[SeriesFreshness]:
        """Newest successful run per area × data type."""
        c = collection_runs.c
        query = (
            select(c.area_code, c.data_type, func.max(c.finished_at))
            .where(c.success.is_(True))
            .group_by(c.area_code, c.data_type)
            .order_by(c.area_code, c.data_type)
        )
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [SeriesFreshness(area, kind, _utc(at)) for area, kind, at in rows if at is not None]


def _utc(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
