"""Scheduler fixtures: the execution history on a migrated SQLite database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from energy_data_service.db.engine import create_engine
from energy_data_service.db.migrate import upgrade
from energy_data_service.repositories.job_executions import JobExecutionRepository


@pytest.fixture
async def executions(sqlite_url: str) -> AsyncIterator[JobExecutionRepository]:
    engine = create_engine(sqlite_url)
    await upgrade(engine)
    try:
        yield JobExecutionRepository(engine)
    finally:
        await engine.dispose()
