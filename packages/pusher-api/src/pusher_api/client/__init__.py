"""Typed clients for the Pusher API: `PusherClient` (blocking) and `AsyncPusherClient` (asyncio).

Both have the same methods — ``send_command``, ``send_batch``, ``get_status``,
``wait_for_final_status``, ``health`` — return pydantic models and raise the errors of
`pusher_api.client.exceptions` (all subclasses of `PusherError`)::

    from pusher_api.client import CommandRequest, PusherClient

    with PusherClient("http://127.0.0.1:8080", api_key="secret") as pusher:
        accepted = pusher.send_command(
            CommandRequest(device_id="sensor-001", command_type="reboot"),
            idempotency_key="reboot-sensor-001-2026-11-22",
        )
        final = pusher.wait_for_final_status(accepted.request_id)
"""

from pusher_api.client._async import AsyncPusherClient
from pusher_api.client._protocol import CommandLike, Health
from pusher_api.client._sync import PusherClient
from pusher_api.client.exceptions import (
    APIError,
    AuthenticationError,
    BrokerUnavailableError,
    FieldError,
    InvalidCommandError,
    NotFoundError,
    PayloadTooLargeError,
    PusherError,
    RateLimitedError,
    ServerError,
    StatusTimeoutError,
    TransportError,
    UnexpectedResponseError,
)
from pusher_api.messages import CommandRequest, CommandStatus, Priority, Protocol
from pusher_api.schemas import BatchAccepted, BatchItemResult, CommandAccepted, CommandStatusView

__all__ = [
    "APIError",
    "AsyncPusherClient",
    "AuthenticationError",
    "BatchAccepted",
    "BatchItemResult",
    "BrokerUnavailableError",
    "CommandAccepted",
    "CommandLike",
    "CommandRequest",
    "CommandStatus",
    "CommandStatusView",
    "FieldError",
    "Health",
    "InvalidCommandError",
    "NotFoundError",
    "PayloadTooLargeError",
    "Priority",
    "Protocol",
    "PusherClient",
    "PusherError",
    "RateLimitedError",
    "ServerError",
    "StatusTimeoutError",
    "TransportError",
    "UnexpectedResponseError",
]
