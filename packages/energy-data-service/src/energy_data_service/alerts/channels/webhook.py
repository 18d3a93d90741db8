"""Webhook channel: the notice as a JSON POST, signed with HMAC-SHA256 of the exact body.

The receiver recomputes ``hmac_sha256(secret, body)`` and compares it (constant time) with the
``X-Signature-SHA256`` header (lowercase hex) to know the notice came from us, unaltered.
"""

from __future__ import annotations

import hashlib
import hmac

import httpx
import orjson

from energy_data_service.alerts.channels.retrying import with_retries
from energy_data_service.alerts.notice import Notice
from energy_data_service.errors import WebhookDeliveryError

SIGNATURE_HEADER = "X-Signature-SHA256"


def sign(secret: bytes, body: bytes) -> str:
    """Lowercase hex HMAC-SHA256 of ``body``."""
    return hmac.new(secret, body, hashlib.sha256).hexdigest()


class WebhookChannel:
    """POSTs notices to one URL; 5xx, 429 and network errors are retried, other 4xx are not."""

    name = "webhook"

    def __init__(
        self,
        url: str,
        *,
        secret: bytes | None,
        timeout_seconds: float,
        retries: int,
        backoff_seconds: float,
    ) -> None:
        self._url = url
        self._secret = secret
        self._timeout = timeout_seconds
        self._retries = retries
        self._backoff = backoff_seconds

    async def send(self, notice: Notice) -> None:
        """Deliver or raise ``WebhookDeliveryError`` / ``httpx.HTTPError`` after the retries."""
        body = orjson.dumps(notice.as_json())
        headers = {"Content-Type": "application/json", "User-Agent": "energy-data-service"}
        if self._secret is not None:
            headers[SIGNATURE_HEADER] = sign(self._secret, body)
        async with httpx.AsyncClient(timeout=self._timeout) as client:

            async def attempt() -> None:
                response = await client.post(self._url, content=body, headers=headers)
                if response.is_success:
                    return
                status = response.status_code
                raise WebhookDeliveryError(
                    f"webhook answered HTTP {status}: {response.text[:200]}",
                    retryable=status >= 500 or status == 429,
                )

            await with_retries(
                attempt,
                retries=self._retries,
                backoff_seconds=self._backoff,
                retryable=_retryable,
            )


def _retryable(error: BaseException) -> bool:
    if isinstance(error, WebhookDeliveryError):
        return error.retryable
    return isinstance(error, httpx.TransportError)
