"""The HTTP API's bodies as documented in its OpenAPI schema: the answers, and the batch request
(a single command is `messages.CommandRequest`). The command routes read and write JSON
themselves, in the shapes declared here; the client parses answers with these models."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field
from service_common import AwareTimestamp, Timestamp

from pusher_api.messages import CommandRequest, CommandStatus


class CommandAccepted(BaseModel):
    """Answer to one command: its id and where Kafka stored it."""

    success: bool
    request_id: str
    message: str
    timestamp: AwareTimestamp
    kafka_partition: int | None
    kafka_offset: int | None
    status: Literal["sent", "scheduled"] = Field(
        default="sent", description="`scheduled`: held until not_before, then published"
    )


class BatchItemResult(BaseModel):
    """Outcome of one command of a batch, at its position `index` in the request."""

    index: int
    success: bool
    request_id: str | None
    message: str
    timestamp: AwareTimestamp | None = None
    kafka_partition: int | None = None
    kafka_offset: int | None = None
    errors: list[dict[str, Any]] | None = Field(
        default=None, description="validation errors of this command, as in a 422 answer"
    )
    status: Literal["sent", "scheduled"] | None = None


class BatchRequest(BaseModel):
    """`POST /api/v1/commands/batch` body. Commands are validated one by one: an invalid one is
    reported in its result and the others are still published."""

    commands: list[CommandRequest] = Field(
        min_length=1, description="commands, each with the fields of POST /api/v1/commands"
    )


class BatchAccepted(BaseModel):
    """Answer to a batch: counts and one result per command, in request order."""

    total_commands: int
    successful: int
    failed: int
    results: list[BatchItemResult]


class WebhookDeliveryView(BaseModel):
    """One POST of a status change to the command's callback: when it was delivered, or how
    its attempts went."""

    status: CommandStatus = Field(description="the status change it reports")
    url: str
    created_at: Timestamp
    attempts: int
    delivered_at: Timestamp | None
    response_status: int | None
    last_error: str | None
    next_attempt_at: Timestamp | None = Field(description="null when delivered or given up")


class CommandStatusView(BaseModel):
    """Where a command is in its lifecycle, with the time of each transition."""

    request_id: str
    device_id: str
    command_type: str
    status: CommandStatus
    detail: str | None
    kafka_partition: int | None
    kafka_offset: int | None
    expires_at: Timestamp | None
    not_before: Timestamp | None = None
    queued_at: Timestamp
    sent_at: Timestamp | None
    delivered_at: Timestamp | None
    finished_at: Timestamp | None
    cancel_requested_at: Timestamp | None = None
    callback_url: str | None = None
    traceparent: str | None = None
    webhook_deliveries: list[WebhookDeliveryView] = Field(default_factory=list)


class CancelRefused(BaseModel):
    """409 to a cancel: the command is past the point where it can be stopped."""

    detail: str
    request_id: str
    status: CommandStatus
