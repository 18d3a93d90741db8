"""The records on Kafka: what the API writes for connectors, and what connectors report back.

These are the contract between the service and every protocol connector (the MQTT reference
connector and any CoAP/LwM2M one written elsewhere), so they are defined once, here.

Command record, on `KAFKA_COMMAND_TOPIC` (default `device_commands`):
- key: `device_id` (UTF-8), so one device's commands land on one partition and stay in order;
- value: `DeviceCommand` as JSON: every command field plus `request_id` and `timestamp`;
- headers: `request_id` and `command_type` (UTF-8), for routing without parsing the value.

Status record, on `KAFKA_STATUS_TOPIC` (default `device_command_status`), written by connectors:
- key: `device_id` (UTF-8);
- value: `StatusReport` as JSON: `request_id`, `device_id`, `status` (`delivered`, `succeeded`,
  `failed` or `expired`), `detail` (text or null), `timestamp`.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

DEVICE_ID_PATTERN = r"^[A-Za-z0-9_.:@-]{1,128}$"
"""Device ids end up in MQTT topics and URLs: no `/`, `+`, `#`, spaces or control characters."""


_RANDOM_IDS = 4096
_random_pool: list[bytes] = []


def new_request_id() -> str:
    """A new request id: a version 7 UUID (RFC 9562) as text.

    Time-ordered (milliseconds since the epoch, then 74 random bits), so new ids land at the
    end of the store's primary-key index instead of at random places in it: inserts and the
    `sent` updates touch a few hot pages, not the whole index. The randomness comes from
    `os.urandom` in blocks and the text is formatted without `uuid.UUID`, which is slow.
    """
    if not _random_pool:
        block = os.urandom(10 * _RANDOM_IDS)
        _random_pool.extend(block[n : n + 10] for n in range(0, len(block), 10))
    raw = bytearray((time.time_ns() // 1_000_000).to_bytes(6, "big") + _random_pool.pop())
    raw[6] = (raw[6] & 0x0F) | 0x70  # version 7
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 9562 variant
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


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


class CommandStatus(StrEnum):
    """The lifecycle of a command: queued → sent → delivered → succeeded | failed | expired.

    `sent` means the broker acknowledged the record (partition and offset known); the later
    states come from connectors. The order of the members is the order of the lifecycle.
    """

    queued = "queued"
    sent = "sent"
    delivered = "delivered"
    succeeded = "succeeded"
    failed = "failed"
    expired = "expired"

    @property
    def is_final(self) -> bool:
        """Final states never change again."""
        return self in FINAL_STATUSES


FINAL_STATUSES = frozenset({CommandStatus.succeeded, CommandStatus.failed, CommandStatus.expired})

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
    payload: dict[str, Any] = Field(default_factory=dict, examples=[{"interval_s": 60}])
    protocol: Protocol = Protocol.mqtt
    parser_script_ref: str | None = Field(
        default=None, max_length=512, description="script the connector uses to encode payload"
    )
    metadata: dict[str, Any] = Field(default_factory=dict)
    qos: int = Field(default=1, ge=0, le=2, description="MQTT quality of service, 0 to 2")
    retain: bool = Field(default=False, description="MQTT retain flag")
    confirmable: bool = Field(default=True, description="CoAP confirmable message")
    priority: Priority = Priority.normal
    expires_at: AwareDatetime | None = Field(
        default=None, description="after this instant the command must not reach the device"
    )


class DeviceCommand(CommandFields):
    """The value of a command record: the command plus the id and time the API gave it.

    Unknown fields are ignored so older connectors keep working when fields are added.
    """

    model_config = ConfigDict(extra="ignore")

    request_id: str
    timestamp: AwareDatetime

    def kafka_key(self) -> bytes:
        """Record key: the device id, so one device's commands stay in order on one partition."""
        return self.device_id.encode()

    def kafka_value(self) -> bytes:
        """Record value: this command as JSON.

        The same document as `model_dump_json` (field order, `Z` for UTC, enums as values),
        written by orjson straight from the validated fields; a payload orjson cannot write
        (an integer beyond 64 bits) falls back to pydantic.
        """
        try:
            return orjson.dumps(self.__dict__, option=orjson.OPT_UTC_Z)
        except TypeError:
            return self.model_dump_json().encode()

    def kafka_headers(self) -> list[tuple[str, bytes]]:
        """Record headers: `request_id` and `command_type`."""
        return [
            ("request_id", self.request_id.encode()),
            ("command_type", self.command_type.encode()),
        ]

    @classmethod
    def from_kafka(cls, value: bytes) -> DeviceCommand:
        """Parse a command record's value (raises `pydantic.ValidationError` when malformed)."""
        return cls.model_validate_json(value)


class CommandRequest(DeviceCommand):
    """A command as an application sends it to `POST /api/v1/commands`.

    It becomes the command record as it is validated: `request_id` and `timestamp` are assigned
    then (clients must not send them), so the hot path validates each command once and builds
    nothing else.
    """

    model_config = ConfigDict(extra="forbid")

    request_id: SkipJsonSchema[str] = Field(default_factory=new_request_id)
    timestamp: SkipJsonSchema[AwareDatetime] = Field(default_factory=lambda: datetime.now(UTC))

    @model_validator(mode="before")
    @classmethod
    def _ids_are_the_services(cls, data: Any) -> Any:
        if isinstance(data, dict) and ("request_id" in data or "timestamp" in data):
            raise ValueError("request_id and timestamp are assigned by the service: omit them")
        return data

    @field_validator("expires_at")
    @classmethod
    def _expires_in_the_future(cls, value: datetime | None) -> datetime | None:
        if value is not None and value <= datetime.now(UTC):
            raise ValueError("expires_at is in the past: give a future instant with a UTC offset")
        return value


class StatusReport(BaseModel):
    """A connector's report about one command, the value of a status record."""

    model_config = ConfigDict(extra="ignore")

    request_id: str
    device_id: DeviceId
    status: CommandStatus = Field(description="delivered, succeeded, failed or expired")
    detail: str | None = None
    timestamp: AwareDatetime = Field(default_factory=lambda: datetime.now(UTC))

    @field_validator("status")
    @classmethod
    def _reported_by_connectors(cls, value: CommandStatus) -> CommandStatus:
        if value in (CommandStatus.queued, CommandStatus.sent):
            raise ValueError("connectors report delivered, succeeded, failed or expired")
        return value

    def kafka_key(self) -> bytes:
        """Record key: the device id."""
        return self.device_id.encode()

    def kafka_value(self) -> bytes:
        """Record value: this report as JSON."""
        return self.model_dump_json().encode()

    @classmethod
    def from_kafka(cls, value: bytes) -> StatusReport:
        """Parse a status record's value (raises `pydantic.ValidationError` when malformed)."""
        return cls.model_validate_json(value)
