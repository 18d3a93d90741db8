"""Refuse what a web page on another site could make a visitor's browser send.

A browser attaches no API key by itself, but with no keys set (the loopback default) any page
the user visits could POST to the service: a ``text/plain`` or form body needs no CORS
preflight. So on state-changing methods:

- a body must be ``application/json`` (or ``…+json``): anything else is a 415, which is what
  forces a browser into a preflight that CORS then refuses;
- a browser request from another site is a 403: ``Sec-Fetch-Site`` ``cross-site`` /
  ``same-site``, or an ``Origin`` that is neither the service's own nor one of the configured
  CORS origins (``*`` allows every origin, as it does for CORS).

Requests without these headers (curl, scripts, server-side clients) pass: they are not made by
a browser on someone else's behalf.
"""

from __future__ import annotations

from collections.abc import Iterable

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

_STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class CrossSiteGuard:
    """ASGI middleware: JSON-only bodies and no cross-site browser requests on writes."""

    def __init__(self, app: ASGIApp, allowed_origins: Iterable[str] = ()) -> None:
        self.app = app
        self._origins = {origin.rstrip("/") for origin in allowed_origins}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _STATE_CHANGING:
            await self.app(scope, receive, send)
            return
        headers = {
            key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]
        }
        refusal = self._refusal(scope, headers)
        if refusal is None:
            await self.app(scope, receive, send)
            return
        status, detail = refusal
        body = orjson.dumps({"detail": detail})
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def _refusal(self, scope: Scope, headers: dict[str, str]) -> tuple[int, str] | None:
        origin = headers.get("origin")
        own = f"{scope.get('scheme', 'http')}://{headers.get('host', '')}"
        trusted = origin is not None and (
            origin.rstrip("/") in self._origins or "*" in self._origins or origin == own
        )
        fetch_site = headers.get("sec-fetch-site")
        if fetch_site in ("cross-site", "same-site") and not trusted:
            return 403, (
                "cross-site request refused: this service accepts writes from its own pages "
                "and the configured CORS origins only"
            )
        if origin is not None and origin != "null" and not trusted:
            return 403, f"cross-site request from {origin} refused: add it to the CORS origins"
        if origin == "null" and not trusted:
            return 403, "request from an opaque origin refused"
        has_body = headers.get("content-length", "0") != "0" or "transfer-encoding" in headers
        if has_body:
            kind = headers.get("content-type", "").split(";", 1)[0].strip().lower()
            if kind != "application/json" and not kind.endswith("+json"):
                return 415, (
                    f"request body must be JSON: send Content-Type: application/json"
                    f" (got {kind or 'none'})"
                )
        return None
