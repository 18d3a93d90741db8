"""`pusher-api connector mqtt`: run the reference MQTT connector until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import signal
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console

from pusher_api.cli._app import app
from pusher_api.connector.settings import MqttConnectorSettings

connector_app = typer.Typer(
    name="connector",
    help="Protocol connectors: consume device commands from Kafka and deliver them to devices.",
    no_args_is_help=True,
)
app.add_typer(connector_app)

if TYPE_CHECKING:
    from pusher_api.connector.mqtt import MqttConnector

_err = Console(stderr=True)


@connector_app.command("mqtt")
def mqtt(
    mqtt_host: Annotated[
        str | None, typer.Option(help="MQTT broker host (env MQTT_HOST, default 127.0.0.1)")
    ] = None,
    mqtt_port: Annotated[
        int | None, typer.Option(help="MQTT broker port (env MQTT_PORT, default 1883)")
    ] = None,
    bootstrap_servers: Annotated[
        str | None,
        typer.Option(help="Kafka bootstrap servers (env KAFKA_BOOTSTRAP_SERVERS)"),
    ] = None,
    group: Annotated[
        str | None,
        typer.Option(
            help="Kafka consumer group; instances in one group share the work "
            "(env KAFKA_CONNECTOR_GROUP, default pusher-connector-mqtt)"
        ),
    ] = None,
) -> None:
    """Publish `protocol: mqtt` commands to devices/{device_id}/commands and report their status.

    Device replies on devices/{device_id}/responses become `succeeded` or `failed`.
    Options override the environment; SIGINT or SIGTERM stops it after the batch in hand.
    """
    overrides: dict[str, Any] = {
        "mqtt_host": mqtt_host,
        "mqtt_port": mqtt_port,
        "kafka_bootstrap_servers": bootstrap_servers,
        "kafka_connector_group": group,
    }
    try:
        settings = MqttConnectorSettings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as error:
        for problem in error.errors():
            name = ".".join(str(part) for part in problem["loc"]).upper()
            _err.print(f"[red]Invalid setting {name}[/red]: {problem['msg']}")
        raise typer.Exit(2) from None
    # Imported here so `pusher-api --help` and other commands do not pay for Kafka and MQTT.
    from aiokafka.errors import KafkaConnectionError, KafkaError

    from pusher_api.connector.mqtt import MqttConnector
    from pusher_api.logging import configure_logging

    configure_logging(settings.log_format, settings.log_level)
    try:
        asyncio.run(_run_until_signalled(MqttConnector(settings)))
    except KafkaConnectionError as error:
        _err.print(
            f"[red]Cannot reach Kafka at {settings.kafka_bootstrap_servers}[/red] ({error}). "
            "Start a broker (e.g. `pusher-api serve --dev-broker` prints one) or set "
            "KAFKA_BOOTSTRAP_SERVERS / --bootstrap-servers."
        )
        raise typer.Exit(1) from None
    except KafkaError as error:
        _err.print(f"[red]Kafka error[/red]: {error}")
        raise typer.Exit(1) from None


async def _run_until_signalled(connector: MqttConnector) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await connector.run(stop)
