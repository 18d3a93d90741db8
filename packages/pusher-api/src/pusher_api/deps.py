"""FastAPI dependencies as `Annotated` aliases: the caller (authenticated and rate limited) and
the service's parts, taken from the app's state."""

from __future__ import annotations

import hashlib
import hmac
import math
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request, status

from pusher_api.rate_limit import RateLimiter
from pusher_api.settings import Settings
from pusher_api.store import CommandStore


async def _store(request: Request) -> CommandStore:
    store: CommandStore = request.app.state.store
    return store


def authorize(request: Request) -> str:
    """Who is calling: checks `X-API-Key` against `API_KEYS` in constant time, then the rate
    limit (401 or 429 otherwise). Returns an id for the caller that is safe to log and to scope
    idempotency keys.

    A plain function so the command routes, the hot path, call it without FastAPI's
    dependency machinery; other routes use it as the `Caller` dependency.
    """
    settings: Settings = request.app.state.settings
    if settings.api_keys:
        supplied = (request.headers.get("x-api-key") or "").encode()
        matched: str | None = None
        for key in settings.api_keys:  # compare with every key: timing reveals nothing
            if hmac.compare_digest(supplied, key.encode()):
                matched = key
        if matched is None:
            raise HTTPException(
                status_code=status.HTTP_401_UNAUTHORIZED,
                detail="missing or invalid X-API-Key header: send one of the keys in API_KEYS",
                headers={"WWW-Authenticate": "ApiKey"},
            )
        caller = "key-" + hashlib.sha256(matched.encode()).hexdigest()[:12]
    else:
        caller = "client-" + (request.client.host if request.client else "unknown")
    limiter: RateLimiter | None = request.app.state.rate_limiter
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


StoreDep = Annotated[CommandStore, Depends(_store)]
Caller = Annotated[str, Depends(_caller)]
