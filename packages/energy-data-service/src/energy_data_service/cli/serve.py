"""`energy-data serve`: the REST API and the collection schedule in one process.

One event loop (uvloop), one database engine: uvicorn's ``Server`` runs inside it and the
scheduler lives in the app's lifespan. The database is migrated before the socket opens, so the
service answers only once its schema is current. SIGINT/SIGTERM stop accepting requests, let
running jobs finish (``SCHEDULER__SHUTDOWN_GRACE_SECONDS``), close the pool and exit 0.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from service_common import exposure_refusal, run_event_loop, serve_app

from energy_data_service.cli._app import app
from energy_data_service.errors import SettingsError
from energy_data_service.settings import Settings, load_settings

_errors = Console(stderr=True, soft_wrap=True)


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
        started = await serve_app(
            create_app(container),
            host=settings.http.host,
            port=settings.http.port,
            graceful_shutdown_seconds=settings.scheduler.shutdown_grace_seconds + 5,
        )
        return 0 if started else 1
    finally:
        await container.aclose()


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
    raise typer.Exit(run_event_loop(_serve(settings)))
