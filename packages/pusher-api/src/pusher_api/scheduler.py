"""Publishes scheduled commands when their `not_before` comes.

The schedule is the store: a scheduled command is a row in state `scheduled` with its record
value, so it survives restarts and any replica can publish it. Each replica's scheduler claims
the due rows (`CommandStore.claim_due`: one claim per command across replicas, never a cancelled
one) and publishes them. It sleeps until the next due instant, at most `SCHEDULE_INTERVAL_S`
(another replica may have scheduled an earlier one), and wakes when this replica schedules one.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

import structlog
from sqlalchemy.exc import SQLAlchemyError

from pusher_api.dispatcher import CommandDispatcher
from pusher_api.store import CommandStore

log = structlog.get_logger(__name__)


async def publish_when_due_forever(
    store: CommandStore, dispatcher: CommandDispatcher, interval_s: float
) -> None:
    """Claim and publish due commands until cancelled."""
    wake = dispatcher.schedule_changed
    while True:
        wait_s = interval_s
        try:
            while claimed := await store.claim_due(datetime.now(UTC)):
                published = await dispatcher.publish_due(claimed)
                log.info("scheduler.commands_published", claimed=len(claimed), published=published)
                if published < len(claimed):
                    break  # Kafka refused some: they are scheduled again, try after a pause
            upcoming = await store.next_due()
            if upcoming is not None:
                wait_s = min(interval_s, max(0.0, (upcoming - datetime.now(UTC)).total_seconds()))
        except (SQLAlchemyError, OSError) as error:
            log.warning("scheduler.failed", error=repr(error))
        wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), wait_s)
