"""The service's parts, built and started together: one typed object on `app.state.services`.

`open_services(settings, metrics)` opens the store, starts the Kafka producer and the background
tasks (status consumer, expiry sweeper, change listener, scheduler, repairer, webhook sender),
yields the `Services`, and stops them all in reverse when the app stops. Routes reach the parts
through `pusher_api.deps`, never through `app.state`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from pusher_api.dispatcher import CommandDispatcher
from pusher_api.expiry import expire_overdue_forever
from pusher_api.metrics import Metrics
from pusher_api.rate_limit import RateLimiter
from pusher_api.repair import Repairer
from pusher_api.scheduler import publish_when_due_forever
from pusher_api.settings import Settings
from pusher_api.status_consumer import StatusConsumer
from pusher_api.store import CommandStore
from pusher_api.webhooks import WebhookSender


@dataclass(frozen=True, slots=True)
class Services:
    """What the routes use: the configuration and the running parts."""

    settings: Settings
    metrics: Metrics
    rate_limiter: RateLimiter | None
    store: CommandStore
    dispatcher: CommandDispatcher
    status_consumer: StatusConsumer
    started_at: float
    """`time.monotonic()` when the parts were up (the status route's uptime)."""


@contextlib.asynccontextmanager
async def open_services(settings: Settings, metrics: Metrics) -> AsyncIterator[Services]:
    """Open and start every part; stop them when the block ends."""
    store = await CommandStore.open(settings.database_url, settings.database_timeout_s)
    dispatcher = CommandDispatcher(settings, store, metrics)
    consumer = StatusConsumer(settings, store, metrics)
    repairer = Repairer(settings, store, dispatcher)
    dispatcher.repairer = repairer
    services = Services(
        settings=settings,
        metrics=metrics,
        rate_limiter=(
            RateLimiter(settings.rate_limit_per_minute) if settings.rate_limit_per_minute else None
        ),
        store=store,
        dispatcher=dispatcher,
        status_consumer=consumer,
        started_at=time.monotonic(),
    )
    await dispatcher.publisher.start()
    tasks = [
        asyncio.create_task(consumer.run(), name="status-consumer"),
        asyncio.create_task(
            expire_overdue_forever(store, settings.expiry_interval_s, metrics), name="expiry"
        ),
        asyncio.create_task(store.listen_forever(), name="change-listener"),
        asyncio.create_task(
            publish_when_due_forever(store, dispatcher, settings.schedule_interval_s),
            name="scheduler",
        ),
        asyncio.create_task(repairer.repair_forever(), name="repairer"),
        asyncio.create_task(WebhookSender(settings, store).run_forever(), name="webhooks"),
    ]
    try:
        yield services
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await dispatcher.publisher.stop()
        await store.close()
