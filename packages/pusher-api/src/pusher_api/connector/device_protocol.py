"""What devices see on MQTT: the command message they receive and the reply they send back.

Commands go to ``devices/{device_id}/commands`` as a JSON object::

    {"request_id": "…", "command_type": "reboot", "payload": {…},
     "timestamp": "2026-11-22T03:00:00Z", "expires_at": null}

with the command's ``qos`` and ``retain``. The MQTT v5 properties carry the same request as
``CorrelationData`` (the request_id, UTF-8), a ``ResponseTopic`` and, when the command expires,
a ``MessageExpiryInterval`` so the broker drops it (retained copy included) once it is stale,
and the request's ``traceparent`` as a user property (a device that puts it on its reply as a
user property gets it carried back on the status record).

Devices reply on ``devices/{device_id}/responses`` with a JSON object::

    {"request_id": "…", "status": "succeeded" | "failed", "detail": "optional text"}

``"success": true | false`` may stand in for ``status``. ``request_id`` may be left out when the
reply carries the command's ``CorrelationData``. The status record names the device of the topic,
never one from the body (with per-device MQTT ACLs, a device can publish only on its own topic).
A reply that breaks this contract is logged and dropped: it cannot be matched to a command.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pusher_api.errors import InvalidReplyError
from pusher_api.messages import DEVICE_ID_PATTERN

if TYPE_CHECKING:  # paho-mqtt comes with the `mqtt` extra; the CoAP connector does without
    from paho.mqtt.properties import Properties

COMMANDS_TOPIC = "devices/{device_id}/commands"
RESPONSES_TOPIC = "devices/{device_id}/responses"
RESPONSES_FILTER = "devices/+/responses"

_FORBIDDEN_IN_TOPIC_LEVEL = ("/", "+", "#", "\x00")


class DeviceReply(BaseModel):
    """A device's answer to one command, as received on its responses topic."""

    model_config = ConfigDict(extra="ignore")

    request_id: str = Field(min_length=1)
    status: Literal["succeeded", "failed"]
    detail: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _success_flag_means_status(cls, data: Any) -> Any:
        success = data.get("success") if isinstance(data, dict) else None
        if isinstance(data, dict) and "status" not in data and isinstance(success, bool):
            return {**data, "status": "succeeded" if success else "failed"}
        return data


def responses_subscription(share_group: str) -> str:
    """A shared subscription: the connectors of one group split the replies between them."""
    return f"$share/{share_group}/{RESPONSES_FILTER}"


def commands_topic(device_id: str) -> str:
    """The topic a device subscribes to; refuses ids that would publish somewhere else."""
    if not device_id or any(char in device_id for char in _FORBIDDEN_IN_TOPIC_LEVEL):
        raise ValueError(
            f"device_id {device_id!r} cannot be one MQTT topic level: it must be non-empty "
            "and contain none of '/', '+', '#'"
        )
    return COMMANDS_TOPIC.format(device_id=device_id)


def device_id_from_responses_topic(topic: str) -> str:
    """The device id in ``devices/{device_id}/responses``."""
    parts = topic.split("/")
    if len(parts) != 3 or parts[0] != "devices" or parts[2] != "responses":
        raise InvalidReplyError(f"topic {topic!r} is not devices/{{device_id}}/responses")
    if not re.fullmatch(DEVICE_ID_PATTERN, parts[1]):
        raise InvalidReplyError(f"{parts[1]!r} in topic {topic!r} is not a valid device id")
    return parts[1]


def command_message(
    *,
    request_id: str,
    command_type: str,
    payload: dict[str, Any],
    timestamp: datetime,
    expires_at: datetime | None,
) -> bytes:
    """The JSON body a device receives for one command."""
    return orjson.dumps(
        {
            "request_id": request_id,
            "command_type": command_type,
            "payload": payload,
            "timestamp": timestamp,
            "expires_at": expires_at,
        },
        option=orjson.OPT_UTC_Z,
    )


def command_properties(
    device_id: str,
    request_id: str,
    expires_at: datetime | None,
    now: datetime | None = None,
    traceparent: str | None = None,
) -> Properties:
    """MQTT v5 properties: correlation for request/response, expiry the broker enforces, and
    the request's W3C `traceparent` as a user property (the MQTT connector's; paho-mqtt)."""
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    properties.CorrelationData = request_id.encode()
    properties.ResponseTopic = RESPONSES_TOPIC.format(device_id=device_id)
    properties.ContentType = "application/json"
    if traceparent is not None:
        properties.UserProperty = [("traceparent", traceparent)]
    if expires_at is not None:
        remaining = (expires_at - (now or datetime.now(UTC))).total_seconds()
        properties.MessageExpiryInterval = max(1, math.ceil(remaining))
    return properties


def user_property(properties: Properties | None, name: str) -> str | None:
    """The value of MQTT v5 user property `name` (the first one), or None."""
    pairs = getattr(properties, "UserProperty", None) if properties is not None else None
    for key, value in pairs or ():
        if key == name:
            return str(value)
    return None


def parse_reply(payload: bytes, correlation_data: bytes | None = None) -> DeviceReply:
    """Read a device reply; raises InvalidReplyError saying what is wrong with it."""
    try:
        body = orjson.loads(payload)
    except orjson.JSONDecodeError as error:
        raise InvalidReplyError(f"reply is not JSON ({error})") from error
    if not isinstance(body, dict):
        raise InvalidReplyError("reply must be a JSON object")
    if "request_id" not in body and correlation_data:
        body["request_id"] = correlation_data.decode("utf-8", errors="replace")
    try:
        return DeviceReply.model_validate(body)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'reply'}: {e['msg']}" for e in error.errors()
        )
        raise InvalidReplyError(
            f"reply breaks the contract ({problems}); expected "
            '{"request_id": "…", "status": "succeeded"|"failed"} or "success": true|false'
        ) from error
