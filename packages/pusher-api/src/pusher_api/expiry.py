"""Marks commands whose `expires_at` has passed as expired, so their status says so even when no
connector ever reports on them (connectors also drop expired commands themselves)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import structlog
from sqlalchemy.exc import SQLAlchemyError

from pusher_api.metrics import Metrics
from pusher_api.store import CommandStore

log = structlog.get_logger(__name__)


async def expire_overdue_forever(store: CommandStore, interval_s: float, metrics: Metrics) -> None:
    """Every `interval_s`, move every non-final command past its `expires_at` to expired."""
    while True:
        try:
            expired = await store.expire_due(datetime.now(UTC))
        except SQLAlchemyError as error:
            log.warning("expiry.sweep_failed", error=str(error))
        else:
            if expired:
                metrics.expired.inc(expired)
                log.info("expiry.commands_expired", count=expired)
        await asyncio.sleep(interval_s)
