"""How both services run their app: uvicorn's ``Server`` inside our own event loop, on uvloop.

``serve_app`` runs inside a coroutine the service already runs (the energy service migrates its
database first, the pusher starts its dev broker), so what a service opens before and closes
after the server shares the server's loop. SIGINT/SIGTERM stop accepting requests, let running
requests and the app's lifespan finish, and end in a normal exit: uvicorn alone re-raises the
signal after its shutdown, so the process would die by it and a service manager would report a
crash after a graceful stop. Logging stays as ``configure_logging`` set it (no uvicorn log
config, no access log: the services count requests in their metrics).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import uvicorn
from starlette.types import ASGIApp

T = TypeVar("T")


class _Server(uvicorn.Server):
    """uvicorn's server with signal handlers that end in a clean exit."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.handle_exit, sig, None)
        try:
            yield
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)


async def serve_app(
    app: ASGIApp, *, host: str, port: int, graceful_shutdown_seconds: float | None = None
) -> bool:
    """Serve ``app`` until a signal stops it; False when it never started (port taken, the
    lifespan failed). ``graceful_shutdown_seconds`` bounds the wait for open requests."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        lifespan="on",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=(
            None if graceful_shutdown_seconds is None else int(graceful_shutdown_seconds)
        ),
    )
    server = _Server(config)
    try:
        await server.serve()
    except SystemExit:  # uvicorn exits 1 when it cannot bind the port
        return False
    return bool(server.started)


def run_event_loop(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` on uvloop where it exists (not on Windows): it roughly halves the event
    loop's share of each request; ``asyncio.run`` would give the slower default loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)
