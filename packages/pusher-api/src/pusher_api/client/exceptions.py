"""Every error the Pusher API clients raise, in one hierarchy.

    PusherError
    ├── TransportError                  - the API could not be reached (refused, timed out)
    ├── UnexpectedResponseError         - a 2xx answer that is not what the API promises
    ├── StatusTimeoutError              - a command did not reach a final status in time
    └── APIError                        - the API answered with an error status (.status_code)
        ├── AuthenticationError         - 401: the X-API-Key is missing or not accepted
        ├── NotFoundError               - 404: no command with that request_id
        ├── PayloadTooLargeError        - 413: the command or batch exceeds the size limit
        ├── InvalidCommandError         - 422: the failing fields are in .errors
        ├── RateLimitedError            - 429: slow down; wait .retry_after seconds
        ├── BrokerUnavailableError      - 503: Kafka is unreachable, nothing was written
        └── ServerError                 - any other 5xx

A 503 or a TransportError is safe to retry with the same ``Idempotency-Key``: the service writes
one record per key, so a retry never sends a command twice.
"""

from __future__ import annotations

from dataclasses import dataclass


class PusherError(Exception):
    """Base of every error raised by ``pusher_api.client``."""


class TransportError(PusherError):
    """The API could not be reached: connection refused or reset, DNS failure, timeout."""


class UnexpectedResponseError(PusherError):
    """A success status with a body the client cannot read: a different server or version."""


class StatusTimeoutError(PusherError, TimeoutError):
    """``wait_for_final_status`` gave up: the command is still queued, sent or delivered."""

    def __init__(self, request_id: str, last_status: str, timeout: float) -> None:
        super().__init__(
            f"command {request_id} is still {last_status!r} after {timeout:g} s; the connector "
            "or the device may be offline (GET its status later)"
        )
        self.request_id = request_id
        self.last_status = last_status


class APIError(PusherError):
    """The API answered with an error status; ``message`` is the service's own explanation."""

    def __init__(self, message: str, *, status_code: int) -> None:
        super().__init__(f"HTTP {status_code}: {message}")
        self.message = message
        self.status_code = status_code


class AuthenticationError(APIError):
    """401: the service requires an ``X-API-Key`` and the one sent (if any) is not accepted."""


class NotFoundError(APIError, LookupError):
    """404: the service knows no command with that ``request_id``."""


class PayloadTooLargeError(APIError):
    """413: the command's payload or the whole batch is over the service's size limit."""


@dataclass(frozen=True)
class FieldError:
    """One failing field of a rejected command: where (``loc``), what is wrong (``msg``)."""

    loc: tuple[str | int, ...]
    msg: str
    type: str = ""

    def __str__(self) -> str:
        where = ".".join(str(part) for part in self.loc) or "(body)"
        return f"{where}: {self.msg}"


class InvalidCommandError(APIError, ValueError):
    """422: the command was rejected; ``errors`` lists every failing field."""

    def __init__(self, message: str, *, status_code: int, errors: list[FieldError]) -> None:
        detail = "; ".join(str(error) for error in errors)
        super().__init__(f"{message}: {detail}" if detail else message, status_code=status_code)
        self.errors = errors


class RateLimitedError(APIError):
    """429: too many requests for this API key; ``retry_after`` says how long to wait (s)."""

    def __init__(self, message: str, *, status_code: int, retry_after: float | None) -> None:
        super().__init__(message, status_code=status_code)
        self.retry_after = retry_after


class BrokerUnavailableError(APIError):
    """503: the service cannot reach Kafka, so the command was not accepted. Retry later."""


class ServerError(APIError):
    """Any other 5xx: a fault in the service; its logs have the details."""
