"""The records on Kafka: what the API writes for connectors, and what connectors report back.

These are the contract between the service and every protocol connector (the MQTT reference
connector and any CoAP/LwM2M one written elsewhere), so they are defined once, here.

Command record, on `KAFKA_COMMAND_TOPIC` (default `device_commands`):
- key: `device_id` (UTF-8), so one device's commands land on one partition and stay in order;
- value: `DeviceCommand` as JSON: every command field plus `request_id` and `timestamp`;
- headers: `request_id` and `command_type` (UTF-8), for routing without parsing the value, and
  `traceparent` (W3C Trace Context) when the HTTP request carried one.

A command record is written only once the command is due: one with `not_before` in the future
waits in the status store (`scheduled`) and is published when that instant comes.

Cancellation record, on `KAFKA_CANCEL_TOPIC` (default `device_command_cancellations`), written by
the service when a command already on Kafka is cancelled:
- key: `device_id` (UTF-8);
- value: `CommandCancellation` as JSON: `request_id`, `device_id`, `timestamp`.
Every connector reads this topic (`connector.cancellations.CancellationView`) and never delivers
a command cancelled there: it reports it `cancelled` instead.

Status record, on `KAFKA_STATUS_TOPIC` (default `device_command_status`), written by connectors:
- key: `device_id` (UTF-8);
- value: `StatusReport` as JSON: `request_id`, `device_id`, `status` (`delivered`, `succeeded`,
  `failed`, `expired` or `cancelled`), `detail` (text or null), `timestamp`, `traceparent`
  (the command's, when it had one; optional).
"""

from __future__ import annotations

import os
import re
import time
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, NamedTuple

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from service_common import AwareTimestamp

from pusher_api.json_depth import BoundedJsonObject, shown
from pusher_api.record_json import spliced_record_value, write_record

DEVICE_ID_PATTERN = r"^[A-Za-z0-9_.:@-]{1,128}$"
"""Device ids end up in MQTT topics and URLs: no `/`, `+`, `#`, spaces or control characters."""


_SET_VERSION_7 = bytes((byte & 0x0F) | 0x70 for byte in range(256))
_SET_RFC_9562_VARIANT = bytes((byte & 0x3F) | 0x80 for byte in range(256))


def new_request_ids(count: int) -> list[str]:
    """`count` new request ids: version 7 UUIDs (RFC 9562) as text.

    Time-ordered (milliseconds since the epoch, then 74 random bits from `os.urandom`), so new
    ids land at the end of the store's primary-key index instead of at random places in it:
    inserts and the `sent` updates touch a few hot pages, not the whole index. All ids of a
    call are built in one buffer (time prefix and version bits set by slice, one hex
    conversion): about a microsecond an id, where `uuid.UUID` costs several.
    """
    raw = bytearray(os.urandom(16 * count))
    for position, byte in enumerate((time.time_ns() // 1_000_000).to_bytes(6, "big")):
        raw[position::16] = bytes((byte,)) * count
    raw[6::16] = raw[6::16].translate(_SET_VERSION_7)
    raw[8::16] = raw[8::16].translate(_SET_RFC_9562_VARIANT)
    h = raw.hex()
    return [
        f"{h[n : n + 8]}-{h[n + 8 : n + 12]}-{h[n + 12 : n + 16]}-"
        f"{h[n + 16 : n + 20]}-{h[n + 20 : n + 32]}"
        for n in range(0, 32 * count, 32)
    ]


class Protocol(StrEnum):
    """The device protocols connectors exist for; a command names the one its device speaks."""

    mqtt = "mqtt"
    coap = "coap"
    lwm2m = "lwm2m"
    http = "http"


class Priority(StrEnum):
    """How urgent a command is; connectors may serve higher priorities first."""

    low = "low"
    normal = "normal"
    high = "high"
    critical = "critical"


class CallbackEvents(StrEnum):
    """Which status changes a command's webhook is told of."""

    all = "all"
    final = "final"


class CommandStatus(StrEnum):
    """The lifecycle of a command: [scheduled →] queued → sent → delivered → succeeded | failed |
    expired | cancelled.

    `scheduled` means held in the store until `not_before`; `sent` means the broker
    acknowledged the record (partition and offset known); the later states come from
    connectors. `cancelled` is reached from scheduled or queued (by the service) or from sent
    (by the connector that held the command). The order of the members is the order of the
    lifecycle.
    """

    scheduled = "scheduled"
    queued = "queued"
    sent = "sent"
    delivered = "delivered"
    succeeded = "succeeded"
    failed = "failed"
    expired = "expired"
    cancelled = "cancelled"

    @property
    def is_final(self) -> bool:
        """Final states never change again."""
        return self in FINAL_STATUSES


FINAL_STATUSES = frozenset(
    {
        CommandStatus.succeeded,
        CommandStatus.failed,
        CommandStatus.expired,
        CommandStatus.cancelled,
    }
)

DeviceId = Annotated[
    str,
    Field(
        pattern=DEVICE_ID_PATTERN,
        description="letters, digits and `_ . : @ -`, 1 to 128 characters",
        examples=["sensor-001"],
    ),
]


class CommandFields(BaseModel):
    """The fields of a device command, shared by the HTTP request and the Kafka record."""

    device_id: DeviceId
    command_type: str = Field(
        min_length=1, max_length=128, examples=["reboot", "set_config", "firmware_update"]
    )
    payload: BoundedJsonObject = Field(default_factory=dict, examples=[{"interval_s": 60}])
    protocol: Protocol = Protocol.mqtt
    parser_script_ref: str | None = Field(
        default=None, max_length=512, description="script the connector uses to encode payload"
    )
    metadata: BoundedJsonObject = Field(default_factory=dict)
    qos: int = Field(default=1, ge=0, le=2, description="MQTT quality of service, 0 to 2")
    retain: bool = Field(default=False, description="MQTT retain flag")
    confirmable: bool = Field(default=True, description="CoAP confirmable message")
    priority: Priority = Priority.normal
    expires_at: AwareTimestamp | None = Field(
        default=None, description="after this instant the command must not reach the device"
    )
    not_before: AwareTimestamp | None = Field(
        default=None,
        description="before this instant the command must not reach the device: it is held "
        "(status `scheduled`) and published when due",
    )

    def due(self, now: datetime) -> bool:
        """Whether the command may be delivered at `now` (its `not_before` has come)."""
        return self.not_before is None or self.not_before <= now


class DeviceCommand(CommandFields):
    """The value of a command record: the command plus the id and time the API gave it.

    Connectors parse records with it. Unknown fields are ignored so older connectors keep
    working when fields are added.
    """

    model_config = ConfigDict(extra="ignore")

    request_id: str
    timestamp: AwareTimestamp

    def kafka_key(self) -> bytes:
        """Record key: the device id, so one device's commands stay in order on one partition."""
        return self.device_id.encode()

    def kafka_value(self) -> bytes:
        """Record value: this command as JSON (the same document `AcceptedCommand` writes)."""
        return _record_value(self.__dict__)

    def kafka_headers(self) -> list[tuple[str, bytes]]:
        """Record headers: `request_id` and `command_type`."""
        return _record_headers(self.request_id, self.command_type)

    @classmethod
    def from_kafka(cls, value: bytes) -> DeviceCommand:
        """Parse a command record's value (raises `pydantic.ValidationError` when malformed)."""
        return cls.model_validate_json(value)


class CommandRequest(CommandFields):
    """A command as an application sends it to `POST /api/v1/commands` (or in a batch).

    Only field checks that pydantic runs in Rust, plus validators for an `expires_at` or a
    `not_before` that is given: validating a command costs about 2 µs, which is what lets a
    batch of 1,000 be checked in a few milliseconds. `request_id` and `timestamp` are the
    service's to assign (`AcceptedCommand`); a client that sends them gets a 422 that says so
    (`validation_errors`).
    """

    model_config = ConfigDict(extra="forbid")

    # The service's own fields, last: `record_json.spliced_record_value` cuts them off the
    # record.
    callback_url: HttpUrl | None = Field(
        default=None,
        description="POSTed the command's status on changes (default WEBHOOK_URL); not sent "
        "to connectors",
    )
    callback_events: CallbackEvents | None = Field(
        default=None, description="`all` changes (default) or only `final` states"
    )

    @field_validator("expires_at")
    @classmethod
    def _expires_in_the_future(cls, value: datetime | None) -> datetime | None:
        if value is not None and value <= datetime.now(UTC):
            raise ValueError("expires_at is in the past: give a future instant with a UTC offset")
        return value

    @field_validator("not_before")
    @classmethod
    def _due_before_it_expires(
        cls, value: datetime | None, info: ValidationInfo
    ) -> datetime | None:
        expires_at = info.data.get("expires_at")
        if value is not None and expires_at is not None and value >= expires_at:
            raise ValueError("not_before must be earlier than expires_at")
        return value


class AcceptedCommand(NamedTuple):
    """A validated command with the id and receipt time the service gave it: what goes to
    Kafka (as a `DeviceCommand` document) and into the status store.

    A named tuple, not a model: one is built per command on the hot path, and the fields are
    already validated.
    """

    command: CommandRequest
    request_id: str
    timestamp: datetime
    traceparent: str | None = None

    def kafka_key(self) -> bytes:
        """Record key: the device id, so one device's commands stay in order on one partition."""
        return self.command.device_id.encode()

    def kafka_value(self) -> bytes:
        """Record value: the `DeviceCommand` document (command fields, request_id, timestamp),
        written by the spliced fast path of `record_json`."""
        return spliced_record_value(
            self.command.__dict__, self.request_id, self.timestamp, _pydantic_record_value
        )

    def kafka_headers(self) -> list[tuple[str, bytes]]:
        """Record headers: `request_id`, `command_type` and the request's `traceparent`."""
        headers = _record_headers(self.request_id, self.command.command_type)
        if self.traceparent is not None:
            headers.append(("traceparent", self.traceparent.encode()))
        return headers


def _record_value(fields: dict[str, Any]) -> bytes:
    """A command record's value: `DeviceCommand`'s fields in its order, written as
    `record_json.write_record` writes them."""
    return write_record(fields, _pydantic_record_value)


def _pydantic_record_value(fields: dict[str, Any]) -> bytes:
    """What orjson cannot write (an integer beyond 64 bits), written by pydantic's encoder."""
    return DeviceCommand.model_validate(fields).model_dump_json().encode()


def _record_headers(request_id: str, command_type: str) -> list[tuple[str, bytes]]:
    return [("request_id", request_id.encode()), ("command_type", command_type.encode())]


_ASSIGNED_BY_SERVICE = frozenset({"request_id", "timestamp"})


def validation_errors(error: ValidationError, prefix: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """A command's validation errors as the API reports them (a 422's `detail`, a batch item's
    `errors`): `type`, `loc` (after `prefix`), `msg`, `input`; JSON-safe. A `request_id` or
    `timestamp` from the client is refused with a message that says why."""
    errors = []
    for item in error.errors(include_url=False, include_context=False):
        loc = item["loc"]
        message = item["msg"]
        if item["type"] == "extra_forbidden" and loc and loc[-1] in _ASSIGNED_BY_SERVICE:
            message = f"{loc[-1]} is assigned by the service: omit it"
        errors.append(
            {"type": item["type"], "loc": [*prefix, *loc], "msg": message, "input": shown(item)}
        )
    return errors


class StatusReport(BaseModel):
    """A connector's report about one command, the value of a status record."""

    model_config = ConfigDict(extra="ignore")

    request_id: str
    device_id: DeviceId
    status: CommandStatus = Field(description="delivered, succeeded, failed, expired or cancelled")
    detail: str | None = None
    timestamp: AwareTimestamp = Field(default_factory=lambda: datetime.now(UTC))
    traceparent: str | None = Field(
        default=None, description="the command's W3C traceparent, carried back"
    )

    @field_validator("status")
    @classmethod
    def _reported_by_connectors(cls, value: CommandStatus) -> CommandStatus:
        if value in (CommandStatus.scheduled, CommandStatus.queued, CommandStatus.sent):
            raise ValueError("connectors report delivered, succeeded, failed, expired or cancelled")
        return value

    def kafka_key(self) -> bytes:
        """Record key: the device id."""
        return self.device_id.encode()

    def kafka_value(self) -> bytes:
        """Record value: this report as JSON."""
        return self.model_dump_json().encode()

    def kafka_headers(self) -> list[tuple[str, bytes]]:
        """Record headers: the command's `traceparent`, when it had one."""
        return [("traceparent", self.traceparent.encode())] if self.traceparent else []

    @classmethod
    def from_kafka(cls, value: bytes) -> StatusReport:
        """Parse a status record's value (raises `pydantic.ValidationError` when malformed)."""
        return cls.model_validate_json(value)


class CommandCancellation(BaseModel):
    """A cancellation record: the command `request_id` must not reach its device.

    Written by the service (`POST /api/v1/commands/{request_id}/cancel`) for a command that is
    already on the command topic; connectors read them (`CancellationView`).
    """

    model_config = ConfigDict(extra="ignore")

    request_id: str
    device_id: DeviceId
    timestamp: AwareTimestamp = Field(default_factory=lambda: datetime.now(UTC))

    def kafka_key(self) -> bytes:
        """Record key: the device id (the partition of the device's commands, by count)."""
        return self.device_id.encode()

    def kafka_value(self) -> bytes:
        """Record value: this cancellation as JSON."""
        return self.model_dump_json().encode()

    @classmethod
    def from_kafka(cls, value: bytes) -> CommandCancellation:
        """Parse a cancellation record (raises `pydantic.ValidationError` when malformed)."""
        return cls.model_validate_json(value)


TRACEPARENT_PATTERN = re.compile(r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")
"""W3C Trace Context `traceparent`: version-traceid-parentid-flags, lower-case hex."""


def valid_traceparent(value: str | None) -> str | None:
    """`value` when it is a well-formed traceparent (not all-zero ids), else None: a malformed
    one is dropped, as the W3C recommendation says, rather than refusing the request."""
    if value is None or not TRACEPARENT_PATTERN.match(value):
        return None
    _, trace_id, parent_id, _ = value.split("-")
    if trace_id == "0" * 32 or parent_id == "0" * 16 or value.startswith("ff"):
        return None
    return value
