"""Every error the client raises, in one hierarchy.

    EntsoeError
    ├── InvalidQueryError (also ValueError)  - the query can't be sent as asked
    │   └── UnknownAreaError                 - no area by that name or EIC (lists close matches)
    ├── ParseError                           - the answer is not a document we can read
    │   └── AnswerTooLargeError              - beyond a size or member cap of the client
    ├── TransportError                       - network failure or timeout, retries exhausted
    └── PlatformError                        - the platform refused the request
        ├── AuthenticationError              - 401: the security token is missing or wrong
        ├── RateLimitError                   - 429 or "Requester banned until …"
        ├── RequestTooLargeError             - the range exceeds the platform's size limit
        ├── ServerError                      - 5xx, retries exhausted
        └── AcknowledgementError             - any other Acknowledgement with the platform's text

"No matching data found" is not an error: it is an empty result.
Messages and reprs never contain the security token.
"""

from __future__ import annotations

from datetime import datetime


class EntsoeError(Exception):
    """Base of every error raised by ``entsoe_client``."""


class InvalidQueryError(EntsoeError, ValueError):
    """The query is malformed (naive datetime, start >= end, wrong kind of area, ...)."""


class UnknownAreaError(InvalidQueryError, LookupError):
    """No area matches the given short name or EIC code."""

    def __init__(self, name: str, suggestions: list[str]) -> None:
        hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"Unknown area {name!r}.{hint} Use a short name like DE_LU or an EIC.")
        self.name = name
        self.suggestions = suggestions


class ParseError(EntsoeError):
    """The response is not a well-formed ENTSO-E document."""


class AnswerTooLargeError(ParseError):
    """The answer is larger than the client accepts: its body (``max_response_bytes``), the
    total its ZIP archive unpacks to (``max_zip_bytes``) or its ZIP's member count
    (``max_zip_members``). Refused before the excess is read, so a hostile or broken upstream
    cannot exhaust memory.

    ``limit_name`` is the ``EntsoeClient`` keyword of the cap that refused it, ``limit`` its
    value and ``size`` what the answer has or claims (bytes or members), so a caller can name
    its own setting in the message it shows.
    """

    def __init__(self, message: str, *, limit_name: str, limit: int, size: int) -> None:
        super().__init__(message)
        self.limit_name = limit_name
        self.limit = limit
        self.size = size


class TransportError(EntsoeError):
    """The platform could not be reached (connection error or timeout) after all retries."""


class PlatformError(EntsoeError):
    """The platform answered with a refusal."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        reason_code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.reason_code = reason_code


class AuthenticationError(PlatformError):
    """401: the security token is missing, wrong or not activated for the REST API."""


class RateLimitError(PlatformError):
    """The platform rate-limited or banned this client; ``retry_after`` is when to try again."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = 429,
        retry_after: float | None = None,
        banned_until: datetime | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code)
        self.retry_after = retry_after
        self.banned_until = banned_until


class RequestTooLargeError(PlatformError):
    """The requested range exceeds what the platform answers in one request.

    ``allowed_period`` is the longest range the refusal names (``"P1M"`` in "... is larger than
    maximum allowed period 'P1M' ..."), or None when it names none.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        reason_code: str | None = None,
        allowed_period: str | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, reason_code=reason_code)
        self.allowed_period = allowed_period


class ServerError(PlatformError):
    """The platform kept answering 5xx after all retries."""


class AcknowledgementError(PlatformError):
    """Any other Acknowledgement document; the message is the platform's own reason text."""
