"""The FastAPI application: routers, middleware, error handlers and the scheduler's lifetime.

``create_app`` receives the container built by ``energy-data serve`` so the API and the scheduler
share one engine. The lifespan campaigns for the scheduler lock (PostgreSQL) or simply runs the
schedule (SQLite) while the server is up, and stops it — letting running jobs finish for a
bounded time — before the server's shutdown completes. It also takes up orphaned backfills, at
start-up and every ``BACKFILL__RECOVERY_SECONDS`` while serving (``api/recovery.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from importlib.metadata import version

import structlog
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from service_common import CrossSiteGuard, OrjsonResponse

from energy_data_service.api.background import DetachedTasks
from energy_data_service.api.errors import register_error_handlers
from energy_data_service.api.metrics import MetricsMiddleware
from energy_data_service.api.recovery import recovery_round, watch_backfills
from energy_data_service.api.routes import routers
from energy_data_service.api.routes.docs import protected_docs
from energy_data_service.container import Container
from energy_data_service.dashboard import router as dashboard_router

log = structlog.get_logger(__name__)


def create_app(container: Container) -> FastAPI:
    """The API over ``container``; the scheduler runs while the app's lifespan is active."""
    background = DetachedTasks()

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        campaign: asyncio.Task[None] | None = None
        reason = container.collection_off_reason
        if reason is None:
            campaign = asyncio.create_task(container.leader.run(), name="leader-election")
        else:
            log.warning("collection.off", reason=reason)
        recovery: asyncio.Task[None] | None = None
        try:
            await recovery_round(container, background)
            recovery = asyncio.create_task(
                watch_backfills(container, background), name="backfill-recovery"
            )
            yield
        finally:
            for task in (campaign, recovery):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            await background.shutdown()

    api = container.settings.api
    docs_behind_keys = bool(api.keys) and not api.docs_public
    app = FastAPI(
        docs_url=None if docs_behind_keys else "/docs",
        redoc_url=None if docs_behind_keys else "/redoc",
        openapi_url=None if docs_behind_keys else "/openapi.json",
        title="Energy data service",
        version=version("energy-data-service"),
        summary="ENTSO-E load, forecasts and day-ahead prices, collected on a schedule and served",
        default_response_class=OrjsonResponse,
        lifespan=lifespan,
    )
    app.state.container = container
    app.state.background = background
    origins = container.settings.api.cors_origins
    app.add_middleware(CrossSiteGuard, allowed_origins=origins)
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_credentials="*" not in origins,  # never a wildcard with credentials
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["X-API-Key", "Content-Type"],
        )
    app.add_middleware(MetricsMiddleware, metrics=container.metrics)
    register_error_handlers(app)
    for router in routers:
        app.include_router(router)
    if docs_behind_keys:
        app.include_router(protected_docs(app))
    app.include_router(dashboard_router)
    return app
