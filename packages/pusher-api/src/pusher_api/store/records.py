"""What the store answers: a command's row, a claimed scheduled command, a webhook delivery,
and the outcome of applying status reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pusher_api.messages import CommandStatus, StatusReport


@dataclass(frozen=True, slots=True)
class CommandRecord:
    """A command's row as the API reports it."""

    request_id: str
    device_id: str
    command_type: str
    protocol: str
    priority: str
    status: CommandStatus
    detail: str | None
    kafka_partition: int | None
    kafka_offset: int | None
    expires_at: datetime | None
    queued_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None
    finished_at: datetime | None
    not_before: datetime | None = None
    traceparent: str | None = None
    callback_url: str | None = None
    callback_events: str | None = None
    idempotency_fingerprint: str | None = None
    cancel_requested_at: datetime | None = None

    @classmethod
    def from_row(cls, row: Any) -> CommandRecord:
        """Build from a result row of the `commands` table."""
        values = dict(row._mapping)
        values.pop("idempotency_key", None)
        values.pop("command_value", None)
        values["status"] = CommandStatus(values["status"])
        return cls(**values)


@dataclass(frozen=True, slots=True)
class ScheduledRecord:
    """A scheduled command the scheduler claimed: what it needs to publish it (the shape
    `CommandPublisher.publish` takes: key, value and headers)."""

    request_id: str
    device_id: str
    value: bytes
    traceparent: str | None

    def kafka_key(self) -> bytes:
        """Record key: the device id."""
        return self.device_id.encode()

    def kafka_value(self) -> bytes:
        """The record value written when the command was accepted."""
        return self.value

    def kafka_headers(self) -> list[tuple[str, bytes]]:
        """`request_id`, and `traceparent` when the request had one (`command_type` is in the
        value)."""
        headers = [("request_id", self.request_id.encode())]
        if self.traceparent is not None:
            headers.append(("traceparent", self.traceparent.encode()))
        return headers


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One POST of a command's status to its callback, as shown in the command's status."""

    id: int
    request_id: str
    status: str
    url: str
    created_at: datetime
    attempts: int
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    response_status: int | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class ReportsApplied:
    """What `apply_reports` did: how many commands moved, and the reports it refused because
    their device id is not the command's (with the command's device id)."""

    changed: int
    refused: list[tuple[StatusReport, str]]
