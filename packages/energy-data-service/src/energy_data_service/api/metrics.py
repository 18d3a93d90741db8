"""HTTP metrics of the API (``ServiceMetrics``), recorded by a plain ASGI middleware (cheap per
request).

Requests are labelled by route template (``/api/v1/energy-data``), never by raw path, so the
number of series stays bounded whatever clients send.
"""

from __future__ import annotations

import time

from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from energy_data_service.monitoring.metrics import ServiceMetrics


class MetricsMiddleware:
    """Counts requests and observes their latency per route template."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self._requests = metrics.http_requests
        self._latency = metrics.http_latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status_code = 500

        async def send_and_observe(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_observe)
        finally:
            route = _route_template(scope)
            method = scope["method"]
            self._requests.labels(method, route, str(status_code)).inc()
            self._latency.labels(method, route).observe(time.perf_counter() - started)


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    if route is not None and hasattr(route, "path"):
        return str(route.path)
    app = scope.get("app")
    for candidate in getattr(getattr(app, "router", None), "routes", []):
        match, _ = candidate.matches(scope)
        if match == Match.FULL:
            return str(candidate.path)
    return "unmatched"
