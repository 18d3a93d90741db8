"""The FastAPI app factory: `create_app(settings)` wires the store, the Kafka producer, the status
consumer, the change listener, the scheduler, the repairer, the webhook sender and the expiry
sweeper, and starts and stops them with the app."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from pydantic.json_schema import models_json_schema

from pusher_api.body_limit import BodySizeLimit
from pusher_api.cross_site import CrossSiteGuard
from pusher_api.dispatcher import CommandDispatcher
from pusher_api.expiry import expire_overdue_forever
from pusher_api.http_errors import install_error_handlers
from pusher_api.metrics import Metrics
from pusher_api.rate_limit import RateLimiter
from pusher_api.repair import Repairer
from pusher_api.routes import commands, events, health
from pusher_api.routes.docs import protected_docs
from pusher_api.scheduler import publish_when_due_forever
from pusher_api.settings import Settings
from pusher_api.status_consumer import StatusConsumer
from pusher_api.store import CommandStore
from pusher_api.webhooks import WebhookSender

log = structlog.get_logger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; nothing connects until the app starts (lifespan)."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = await CommandStore.open(settings.database_url, settings.database_timeout_s)
        dispatcher = CommandDispatcher(settings, store, app.state.metrics)
        consumer = StatusConsumer(settings, store, app.state.metrics)
        repairer = Repairer(settings, store, dispatcher)
        dispatcher.repairer = repairer
        app.state.store = store
        app.state.dispatcher = dispatcher
        app.state.status_consumer = consumer
        app.state.started_at = time.monotonic()
        await dispatcher.publisher.start()
        tasks = [
            asyncio.create_task(consumer.run(), name="status-consumer"),
            asyncio.create_task(
                expire_overdue_forever(store, settings.expiry_interval_s, app.state.metrics),
                name="expiry",
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
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await dispatcher.publisher.stop()
            await store.close()

    docs_behind_keys = bool(settings.api_keys) and not settings.docs_public
    app = FastAPI(
        docs_url=None if docs_behind_keys else "/docs",
        redoc_url=None if docs_behind_keys else "/redoc",
        openapi_url=None if docs_behind_keys else "/openapi.json",
        title="Pusher API",
        summary="Device commands over HTTP into Kafka, with a per-command status lifecycle",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = Metrics()
    app.state.rate_limiter = (
        RateLimiter(settings.rate_limit_per_minute) if settings.rate_limit_per_minute else None
    )
    app.add_middleware(CrossSiteGuard, allowed_origins=settings.cors_origins)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials="*" not in settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["X-API-Key", "Content-Type", "Idempotency-Key", "X-Client-Id"],
        )
    app.add_middleware(
        BodySizeLimit,
        default_limit=settings.max_command_bytes,
        batch_limit=settings.max_batch_bytes,
    )
    app.include_router(commands.router)
    app.include_router(events.router)
    app.include_router(health.router)
    if docs_behind_keys:
        app.include_router(protected_docs(app))

    install_error_handlers(app, app.state.metrics, commands.router.prefix)
    _document_request_bodies(app)
    return app


def _document_request_bodies(app: FastAPI) -> None:
    """Add the schemas of the bodies the command routes read by hand to the OpenAPI components
    (the routes refer to them), as FastAPI would for a typed body parameter."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()  # cached by FastAPI in app.openapi_schema, completed here once
        _, definitions = models_json_schema(
            [(model, "validation") for model in commands.REQUEST_BODIES],
            ref_template="#/components/schemas/{model}",
        )
        schema.setdefault("components", {}).setdefault("schemas", {}).update(definitions["$defs"])
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
