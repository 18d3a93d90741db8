"""`pusher-api connector mqtt|coap`: run a reference connector until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Annotated, Any, Protocol, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from pusher_api.cli._app import QUIET_LIBRARIES, app
from pusher_api.connector.settings import CoapConnectorSettings, MqttConnectorSettings
from pusher_api.errors import MissingExtraError

connector_app = typer.Typer(
    name="connector",
    help="Protocol connectors: consume device commands from Kafka and deliver them to devices.",
    no_args_is_help=True,
)
app.add_typer(connector_app)

_SettingsT = TypeVar("_SettingsT", MqttConnectorSettings, CoapConnectorSettings)


class _Connector(Protocol):
    async def run(self, stop: asyncio.Event) -> None: ...


_err = Console(stderr=True, soft_wrap=True)


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
    settings = _settings(MqttConnectorSettings, overrides)
    # Imported here so `pusher-api --help` and other commands do not pay for Kafka and MQTT.
    try:
        from pusher_api.connector.mqtt import MqttConnector
    except MissingExtraError as error:
        _err.print(f"[red]pusher-api connector mqtt:[/red] {escape(str(error))}")
        raise typer.Exit(1) from None

    _run(settings, MqttConnector(settings))


def _settings(kind: type[_SettingsT], overrides: dict[str, Any]) -> _SettingsT:
    """Settings from the environment with the given options on top; one line per bad one."""
    try:
        return kind(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as error:
        for problem in error.errors():
            name = ".".join(str(part) for part in problem["loc"]).upper()
            _err.print(f"[red]Invalid setting {name}[/red]: {problem['msg']}")
        raise typer.Exit(2) from None


def _run(settings: MqttConnectorSettings | CoapConnectorSettings, connector: _Connector) -> None:
    from aiokafka.errors import KafkaConnectionError, KafkaError
    from service_common import configure_logging

    configure_logging(
        level=settings.log_level, log_format=settings.log_format, quieter=QUIET_LIBRARIES
    )
    try:
        asyncio.run(_run_until_signalled(connector))
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
    except OSError as error:  # the CoAP port is taken or the address is not local
        _err.print(f"[red]Cannot serve[/red]: {error}")
        raise typer.Exit(1) from None


async def _run_until_signalled(connector: _Connector) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await connector.run(stop)


@connector_app.command("coap")
def coap(
    coap_host: Annotated[
        str | None,
        typer.Option(help="address devices reach over UDP (env COAP_HOST, default 127.0.0.1)"),
    ] = None,
    coap_port: Annotated[
        int | None, typer.Option(help="UDP port, 0 for any free one (env COAP_PORT, default 5683)")
    ] = None,
    queue_file: Annotated[
        Path | None,
        typer.Option(
            help="SQLite file of the device queues "
            "(env COAP_QUEUE_FILE, default ./data/coap-connector.db)"
        ),
    ] = None,
    bootstrap_servers: Annotated[
        str | None,
        typer.Option(help="Kafka bootstrap servers (env KAFKA_BOOTSTRAP_SERVERS)"),
    ] = None,
    group: Annotated[
        str | None,
        typer.Option(
            help="Kafka consumer group (env KAFKA_CONNECTOR_GROUP, default pusher-connector-coap)"
        ),
    ] = None,
) -> None:
    """Queue `protocol: coap` commands for sleepy devices and hand them over when they check in.

    Devices GET /devices/{device_id}/commands (or POST their measurement to
    /devices/{device_id}/uplink) and POST results to /devices/{device_id}/responses; commands
    with metadata.coap_uri are pushed to that endpoint. SIGINT or SIGTERM stops it.
    """
    overrides: dict[str, Any] = {
        "coap_host": coap_host,
        "coap_port": coap_port,
        "coap_queue_file": queue_file,
        "kafka_bootstrap_servers": bootstrap_servers,
        "kafka_connector_group": group,
    }
    settings = _settings(CoapConnectorSettings, overrides)
    from pusher_api.connector.coap.connector import CoapConnector

    _run(settings, CoapConnector(settings))
