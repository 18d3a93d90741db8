"""`pusher-api serve [--dev-broker]`: migrate the command store, then run the HTTP API
(settings from the environment)."""

from __future__ import annotations

import gc
import sys
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from service_common import configure_logging, exposure_refusal, run_event_loop, serve_app

from pusher_api.app import create_app
from pusher_api.cli._app import QUIET_LIBRARIES, app
from pusher_api.cli.migrate import apply_migrations
from pusher_api.dev_broker import DevBroker
from pusher_api.errors import DevBrokerError, MissingExtraError
from pusher_api.settings import Settings

_err = Console(stderr=True, soft_wrap=True)


@app.command()
def serve(
    dev_broker: Annotated[
        bool,
        typer.Option(
            "--dev-broker",
            help="Start a local Kafka-protocol broker (librdkafka mock, in memory) and use it "
            "instead of KAFKA_BOOTSTRAP_SERVERS: try the service with no Kafka installed.",
        ),
    ] = False,
    host: Annotated[str | None, typer.Option(help="bind address (env API_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="port (env API_PORT)")] = None,
    insecure: Annotated[
        bool,
        typer.Option(
            "--insecure", help="allow listening beyond loopback without API_KEYS (ALLOW_INSECURE)"
        ),
    ] = False,
) -> None:
    """Serve the Pusher API: commands over HTTP into Kafka, with their status lifecycle."""
    try:
        settings = Settings()
    except ValidationError as error:
        _err.print(f"[red]Invalid settings:[/red]\n{error}")
        raise typer.Exit(2) from None
    overrides = {"api_host": host, "api_port": port}
    settings = settings.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    configure_logging(
        level=settings.log_level, log_format=settings.log_format, quieter=QUIET_LIBRARIES
    )
    refusal = exposure_refusal(
        settings.api_host,
        keys_variable="API_KEYS",
        has_keys=bool(settings.api_keys),
        insecure=insecure or settings.allow_insecure,
    )
    if refusal is not None:
        _err.print(f"[red]pusher-api serve:[/red] {refusal}")
        raise typer.Exit(2)

    broker: DevBroker | None = None
    if dev_broker:
        broker = DevBroker(
            topics=(
                settings.kafka_command_topic,
                settings.kafka_status_topic,
                settings.kafka_cancel_topic,
            )
        )
        try:
            bootstrap = broker.start()
        except MissingExtraError as error:
            _err.print(f"[red]pusher-api serve --dev-broker:[/red] {escape(str(error))}")
            raise typer.Exit(1) from None
        except DevBrokerError as error:
            _err.print(f"[red]Could not start the dev broker:[/red] {error}")
            raise typer.Exit(1) from None
        settings = settings.model_copy(update={"kafka_bootstrap_servers": bootstrap})
        _err.print(
            f"[yellow]Dev broker[/yellow] (in memory, lost on exit) at [bold]{bootstrap}[/bold]; "
            f"connectors: KAFKA_BOOTSTRAP_SERVERS={bootstrap}"
        )
    apply_migrations(settings, "serve")
    app_to_serve = create_app(settings)
    tune_interpreter()
    try:
        started = run_event_loop(
            serve_app(app_to_serve, host=settings.api_host, port=settings.api_port)
        )
    finally:
        if broker is not None:
            broker.stop()
    if not started:
        raise typer.Exit(1)


def tune_interpreter() -> None:
    """Settings of the Python process for a service that allocates per request and has one
    writer thread next to its event loop (measured with bench/pusher.py).

    Garbage collection: everything alive now (modules, classes, the app) goes to the permanent
    generation, so full collections stop re-scanning it, and the youngest generation is
    collected every 50,000 allocations instead of every 700. A batch of 1,000 commands
    allocates tens of thousands of short-lived objects, and with the defaults the collector's
    scans were a fifth of the service's time; reference counting frees nearly all of them
    anyway, the collector is only needed for cycles.

    GIL switch interval 0.5 ms instead of 5 ms: the store's writer thread releases the GIL while
    SQLite works and needs it back to go on; with the event loop busy it waited the whole
    interval each time, which tripled the time of a write.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    sys.setswitchinterval(0.0005)
