"""The FastAPI app factory: `create_app(settings)` builds the app (middleware, routers, error
handlers, the OpenAPI document); its lifespan opens the service's parts (`services.open_services`)
and puts them on `app.state.services`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from pydantic.json_schema import models_json_schema
from service_common import CrossSiteGuard, OrjsonResponse

from pusher_api.body_limit import BodySizeLimit
from pusher_api.http_errors import install_error_handlers
from pusher_api.metrics import Metrics
from pusher_api.routes import commands, events, health
from pusher_api.routes.docs import protected_docs
from pusher_api.services import open_services
from pusher_api.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; nothing connects until the app starts (lifespan)."""
    settings = settings or Settings()

    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_services(settings, metrics) as services:
            app.state.services = services
            yield

    docs_behind_keys = bool(settings.api_keys) and not settings.docs_public
    app = FastAPI(
        docs_url=None if docs_behind_keys else "/docs",
        redoc_url=None if docs_behind_keys else "/redoc",
        openapi_url=None if docs_behind_keys else "/openapi.json",
        title="Pusher API",
        summary="Device commands over HTTP into Kafka, with a per-command status lifecycle",
        version="0.1.0",
        default_response_class=OrjsonResponse,
        lifespan=lifespan,
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

    install_error_handlers(app, metrics, commands.router.prefix)
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
