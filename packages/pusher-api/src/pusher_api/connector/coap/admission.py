"""What a command record becomes in the CoAP connector: queued for its device, or ended at once
(cancelled or expired already, an encoder nobody installed, a payload the encoder refuses, a
push address that is not CoAP). Deciding this when the record arrives, not when the device
wakes, means the application learns of a hopeless command in seconds instead of at the
device's next check-in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from pusher_api.connector.coap.cancel_gate import CANCELLED_DETAIL
from pusher_api.connector.coap.queue import QueuedCommand
from pusher_api.connector.device_protocol import command_message
from pusher_api.encoders import DEFAULT_ENCODER, EncoderError, encoder_for
from pusher_api.messages import CommandStatus, DeviceCommand

PUSH_URI_KEY = "coap_uri"


@dataclass(frozen=True, slots=True)
class Refusal:
    """A command that ends without reaching its device, and the status record that says why."""

    device_id: str
    request_id: str
    status: CommandStatus
    detail: str
    traceparent: str | None = None


def device_document(command: DeviceCommand) -> dict[str, Any]:
    """What the device is handed: the MQTT connector's message, field for field."""
    document: dict[str, Any] = orjson.loads(
        command_message(
            request_id=command.request_id,
            command_type=command.command_type,
            payload=command.payload,
            timestamp=command.timestamp,
            expires_at=command.expires_at,
        )
    )
    return document


def admit(
    command: DeviceCommand, *, cancelled: bool, traceparent: str | None, now: datetime
) -> QueuedCommand | Refusal:
    """The queue entry for ``command``, or why it can never be delivered."""

    def refuse(status: CommandStatus, detail: str) -> Refusal:
        return Refusal(command.device_id, command.request_id, status, detail, traceparent)

    if cancelled:
        return refuse(CommandStatus.cancelled, CANCELLED_DETAIL)
    if command.expires_at is not None and command.expires_at <= now:
        return refuse(
            CommandStatus.expired,
            f"expired at {command.expires_at.isoformat()} before it reached the connector",
        )
    push_uri = command.metadata.get(PUSH_URI_KEY)
    if push_uri is not None and not (isinstance(push_uri, str) and push_uri.startswith("coap://")):
        return refuse(
            CommandStatus.failed,
            f"metadata.{PUSH_URI_KEY} must be a coap:// URI of the device's endpoint "
            f"(got {push_uri!r}); leave it out for devices that check in",
        )
    document = device_document(command)
    name = command.parser_script_ref or DEFAULT_ENCODER
    try:
        # Pushed alone, handed over in a list at check-in: try the shape the device will get.
        encoder_for(name).encode(document if push_uri else [document])
    except EncoderError as error:
        return refuse(CommandStatus.failed, str(error))
    except Exception as error:
        return refuse(CommandStatus.failed, f"encoder {name!r} cannot encode the command: {error}")
    return QueuedCommand(
        request_id=command.request_id,
        device_id=command.device_id,
        message=orjson.dumps(document),
        encoder=name,
        push_uri=push_uri,
        confirmable=command.confirmable,
        expires_at=command.expires_at.timestamp() if command.expires_at else None,
        # The service publishes a command when it is due; a connector whose clock is behind
        # still holds it until then.
        not_before=command.not_before.timestamp() if command.not_before else None,
        traceparent=traceparent,
    )
