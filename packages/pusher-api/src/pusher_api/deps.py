"""FastAPI dependencies as `Annotated` aliases: the caller (authenticated and rate limited) and
the service's parts (`Services` on `app.state.services`).

The command routes, the hot path, read the body and write the answer themselves; they call the
plain functions `services_of` and `authorize`, as cheap as an attribute read, instead of going
through FastAPI's dependency machinery. Every other route takes the aliases."""

from __future__ import annotations

import hashlib
import math
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request, status
from service_common import check_api_key

from pusher_api.dispatcher import CommandDispatcher
from pusher_api.metrics import Metrics
from pusher_api.services import Services
from pusher_api.settings import Settings
from pusher_api.status_consumer import StatusConsumer
from pusher_api.store import CommandStore


def services_of(request: Request) -> Services:
    """The running service's parts (set by the app's lifespan)."""
    services: Services = request.app.state.services
    return services


def header(request: Request, name: bytes) -> str | None:
    """The first value of header `name` (lower case, as ASGI servers give names), or None:
    what `request.headers.get` answers, without building starlette's `Headers` and raising
    and catching a `KeyError` for each header a request lacks (about a microsecond each, and
    the command routes ask for four that most requests lack)."""
    for key, value in request.scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def authorize(request: Request) -> str:
    """Who is calling: checks `X-API-Key` against `API_KEYS` in constant time, then the rate
    limit (401 or 429 otherwise). Returns an id for the caller that is safe to log and to scope
    idempotency keys.

    A plain function so the command routes, the hot path, call it without FastAPI's
    dependency machinery; other routes use it as the `Caller` dependency.
    """
    services = services_of(request)
    settings = services.settings
    matched = check_api_key(
        header(request, b"x-api-key"), settings.api_keys, keys_variable="API_KEYS"
    )
    if matched is not None:
        caller = "key-" + hashlib.sha256(matched.encode()).hexdigest()[:12]
    else:
        caller = "client-" + (request.client.host if request.client else "unknown")
    limiter = services.rate_limiter
    if limiter is not None:
        retry_after = limiter.acquire(caller)
        if retry_after is not None:
            raise HTTPException(
                status_code=status.HTTP_429_TOO_MANY_REQUESTS,
                detail=(
                    f"rate limit of {settings.rate_limit_per_minute} requests per minute "
                    f"exceeded; retry in {retry_after:.1f} s"
                ),
                headers={"Retry-After": str(math.ceil(retry_after))},
            )
    return caller


async def _caller(
    request: Request,
    x_api_key: Annotated[str | None, Header(description="required when API_KEYS is set")] = None,
) -> str:
    return authorize(request)


async def _services(request: Request) -> Services:
    return services_of(request)


async def _settings(request: Request) -> Settings:
    return services_of(request).settings


async def _metrics(request: Request) -> Metrics:
    return services_of(request).metrics


async def _store(request: Request) -> CommandStore:
    return services_of(request).store


async def _dispatcher(request: Request) -> CommandDispatcher:
    return services_of(request).dispatcher


async def _status_consumer(request: Request) -> StatusConsumer:
    return services_of(request).status_consumer


ServicesDep = Annotated[Services, Depends(_services)]
SettingsDep = Annotated[Settings, Depends(_settings)]
MetricsDep = Annotated[Metrics, Depends(_metrics)]
StoreDep = Annotated[CommandStore, Depends(_store)]
DispatcherDep = Annotated[CommandDispatcher, Depends(_dispatcher)]
StatusConsumerDep = Annotated[StatusConsumer, Depends(_status_consumer)]
Caller = Annotated[str, Depends(_caller)]
