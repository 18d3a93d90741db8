"""Every error the pusher service and its connectors raise, in one hierarchy.

    PusherServiceError
    ├── UnavailableError                   - 503 + Retry-After: an outage, retry later
    │   ├── BrokerUnavailableError         - Kafka did not take the command in time
    │   ├── CancelUnavailableError         - the cancellation record could not be written
    │   └── StoreUnavailableError          - the status store refused, vanished or timed out
    ├── IdempotencyConflictError           - 409: the key was first used with another body
    ├── DuplicateIdempotencyKeyError       - the store: another request holds the key
    ├── EncoderError                       - a connector cannot load the payload's encoder
    │   └── UnknownEncoderError (LookupError)  - no encoder registered under that name
    ├── InvalidReplyError (ValueError)     - a device's reply is not what the protocol says
    ├── DevBrokerError (RuntimeError)      - the development broker did not start
    └── MissingExtraError (ImportError)    - an optional part's extra is not installed

`HTTP_STATUS` maps the errors the API answers with to their status codes (the most specific
class wins). A database error that is not one of these is classified where it is caught
(`is_database_outage`): an outage (refused, unreachable, timed out) is a `StoreUnavailableError`,
503; anything else (a bad statement, an unexpected constraint) is a fault, logged and answered
500, so a bug never hides behind "retry later".

The clients' errors (`pusher_api.client.exceptions`, rooted at `PusherError`) are what a caller
of the API sees; these are the server's.
"""

from __future__ import annotations

from typing import Any


class PusherServiceError(Exception):
    """Base of every error raised by the pusher service and its connectors."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def answer(self) -> dict[str, Any]:
        """The JSON body of the API's answer to this error."""
        return {"detail": self.message}


class UnavailableError(PusherServiceError):
    """A part the service needs cannot be reached right now: 503, retry with the same
    `Idempotency-Key`."""


class BrokerUnavailableError(UnavailableError):
    """Kafka did not take the command in time; the answer names the command's request id."""

    def __init__(self, message: str, request_id: str | None = None):
        super().__init__(message)
        self.request_id = request_id

    def answer(self) -> dict[str, Any]:
        """`detail` and the command's `request_id` (null when none was assigned)."""
        return {"detail": self.message, "request_id": self.request_id}


class CancelUnavailableError(UnavailableError):
    """The cancellation record could not be written (Kafka away)."""


class StoreUnavailableError(UnavailableError):
    """The status store refused the connection, could not be reached, or timed out."""

    def __init__(self, cause: BaseException):
        super().__init__(f"command status store unavailable ({type(cause).__name__}); retry later")
        self.cause = cause


class IdempotencyConflictError(PusherServiceError):
    """The Idempotency-Key was first used with another body."""

    def __init__(self, request_id: str):
        super().__init__(
            f"Idempotency-Key was already used with a different body by request {request_id}: "
            "use a new key for a new command"
        )
        self.request_id = request_id

    def answer(self) -> dict[str, Any]:
        """`detail` and the `request_id` of the command that holds the key."""
        return {"detail": self.message, "request_id": self.request_id}


class DuplicateIdempotencyKeyError(PusherServiceError):
    """Another request (in this process or another replica) already holds the idempotency key;
    the insert wrote nothing."""


class EncoderError(PusherServiceError):
    """An encoder cannot be found, loaded, or used for a command; the message says which."""


class UnknownEncoderError(EncoderError, LookupError):
    """No installed package registers an encoder under the command's ``parser_script_ref``."""


class InvalidReplyError(PusherServiceError, ValueError):
    """A device reply that cannot be matched to a command; the message says why."""


class DevBrokerError(PusherServiceError, RuntimeError):
    """The dev broker process did not start or did not report its address in time."""


class MissingExtraError(PusherServiceError, ImportError):
    """An optional part needs a package that is not installed; the message names the extra
    that brings it (`pip install 'pusher-api[mqtt]'`)."""

    def __init__(self, part: str, extra: str, missing: str):
        super().__init__(
            f"{part} needs {missing}, which is not installed: "
            f"install the extra, `pip install 'pusher-api[{extra}]'` "
            "(in this workspace: `make install`)"
        )
        self.extra = extra


HTTP_STATUS: dict[type[PusherServiceError], int] = {
    UnavailableError: 503,
    IdempotencyConflictError: 409,
}
"""The API's status code for each error it answers with; an error of another class is a fault
(500)."""


def http_status(error: PusherServiceError) -> int:
    """The status code of `error`: that of its nearest class in `HTTP_STATUS`, else 500."""
    for cls in type(error).__mro__:
        if cls in HTTP_STATUS:
            return HTTP_STATUS[cls]
    return 500
