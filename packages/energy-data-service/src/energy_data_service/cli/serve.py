"""`energy-data serve`: the REST API and the collection schedule in one process.

One event loop (uvloop), one database engine: uvicorn's ``Server`` runs inside it and the
scheduler lives in the app's lifespan. The database is migrated before the socket opens, so the
service answers only once its schema is current. SIGINT/SIGTERM stop accepting requests, let
running jobs finish (``SCHEDULER__SHUTDOWN_GRACE_SECONDS``), close the pool and exit 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Coroutine, Iterator
from typing import Annotated, Any

import typer
import uvicorn
from rich.console import Console
from service_common import exposure_refusal

from energy_data_service.cli._app import app
from energy_data_service.errors import SettingsError
from energy_data_service.settings import Settings, load_settings

_errors = Console(stderr=True, soft_wrap=True)


class _Server(uvicorn.Server):
    """uvicorn's server with signal handling that ends in a clean exit 0.

    uvicorn re-raises a caught SIGTERM after shutdown (the process then dies by the signal);
    a service manager should see a normal exit after a graceful stop instead.
    """

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


async def _serve(settings: Settings) -> int:
    from energy_data_service.api.main import create_app
    from energy_data_service.container import Container

    container = Container(settings)
    try:
        await container.__aenter__()  # applies the migrations
    except Exception as error:
        _errors.print(
            f"[red]energy-data serve: cannot open the database at {container.url}[/red]\n"
            f"  {type(error).__name__}: {error}\n"
            "  Check DATABASE__URL and that the database server is running."
        )
        await container.aclose()
        return 1
    try:
        config = uvicorn.Config(
            create_app(container),
            host=settings.http.host,
            port=settings.http.port,
            lifespan="on",
            access_log=False,
            timeout_graceful_shutdown=int(settings.scheduler.shutdown_grace_seconds) + 5,
        )
        server = _Server(config)
        await server.serve()
        return 0 if server.started else 1
    finally:
        await container.aclose()


def _run(main: Coroutine[Any, Any, int]) -> int:
    """Run on uvloop where it exists (not on Windows): it roughly halves the event loop's share
    of each request; ``asyncio.run`` would give the slower default loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Overrides HTTP__HOST")] = None,
    port: Annotated[int | None, typer.Option(help="Overrides HTTP__PORT")] = None,
    insecure: Annotated[
        bool,
        typer.Option(
            "--insecure",
            help="Allow listening beyond loopback without API__KEYS (ALLOW_INSECURE=true)",
        ),
    ] = False,
) -> None:
    """Serve the REST API and run the collection schedule (API on HTTP__HOST:HTTP__PORT)."""
    overrides = {key: value for key, value in (("host", host), ("port", port)) if value is not None}
    try:
        settings = load_settings()
        if overrides:
            settings = load_settings(http={**settings.http.model_dump(), **overrides})
    except SettingsError as error:
        _errors.print(f"[red]{error}[/red]", markup=False)
        raise typer.Exit(2) from None
    refusal = exposure_refusal(
        settings.http.host,
        keys_variable="API__KEYS",
        has_keys=bool(settings.api.keys),
        insecure=insecure or settings.allow_insecure,
    )
    if refusal is not None:
        _errors.print(f"energy-data serve: {refusal}", markup=False, style="red")
        raise typer.Exit(2)
    try:
        code = _run(_serve(settings))
    except SystemExit as exit_:  # uvicorn exits 1 when it cannot bind the port
        code = int(exit_.code or 0)
    raise typer.Exit(code)
