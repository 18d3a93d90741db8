"""POSTing status changes to commands' callbacks, signed, retried, each attempt recorded.

The deliveries are rows of `webhook_deliveries`, written by a trigger in the transaction of each
change (so none is lost, whichever replica made the change). Every replica runs a sender: it
claims due deliveries with a lease (`CommandStore.claim_webhooks`, rows locked and skipped on
PostgreSQL, so one replica sends each), POSTs them and records the outcome. A command's changes
go out in order: its next delivery waits until the previous one is delivered or given up.

The body is the command's status as `GET …/status` shows it when the POST is made, plus
`event` (the change it reports). Headers: `Content-Type: application/json`,
`X-Pusher-Event` (the status), `X-Pusher-Delivery` (the delivery's id, the same on every retry),
and with `WEBHOOK_SECRET` set, `X-Pusher-Signature: sha256=<hex>`, the HMAC-SHA256 of the exact
body bytes with the secret as key. A 2xx answer is delivered; anything else (or no answer in
`WEBHOOK_TIMEOUT_S`) is retried after 1, 2, 4, … s (at most 5 minutes), up to
`WEBHOOK_MAX_ATTEMPTS` attempts, then given up.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import time
from datetime import UTC, datetime, timedelta

import httpx
import orjson
import structlog
from sqlalchemy.exc import SQLAlchemyError

from pusher_api.settings import Settings
from pusher_api.store import CommandStore, WebhookDelivery
from pusher_api.views import status_view

log = structlog.get_logger(__name__)

_LEASE_S = 60.0
_POLL_S = 1.0
_MIN_ROUND_S = 0.05
_MAX_BACKOFF_S = 300.0


def signature(secret: str, body: bytes) -> str:
    """The `X-Pusher-Signature` value of `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookSender:
    """Sends this replica's share of the due deliveries until cancelled."""

    def __init__(self, settings: Settings, store: CommandStore):
        self._settings = settings
        self._store = store
        secret = settings.webhook_secret
        self._secret = secret.get_secret_value() if secret is not None else None

    async def run_forever(self) -> None:
        """Claim, send, record; wake on any change or every second.

        A claim is a write (it leases the rows), so it is made only when a read finds a
        delivery due: under load the sender wakes on every batch of changes, and claiming
        each time put a write transaction beside every batch's own (on SQLite they queue for
        the one writer) although no command had a webhook."""
        async with httpx.AsyncClient(timeout=self._settings.webhook_timeout_s) as http:
            with self._store.feed.woken() as changed:
                while True:
                    round_started = time.monotonic()
                    changed.clear()  # a change from here on wakes the next round
                    try:
                        now = datetime.now(UTC)
                        due = []
                        if await self._store.has_due_webhooks(now):
                            due = await self._store.claim_webhooks(now, _LEASE_S)
                        await asyncio.gather(*(self._send(http, d) for d in due))
                    except (SQLAlchemyError, OSError) as error:
                        log.warning("webhooks.sender_failed", error=repr(error))
                        due = []
                    if due:
                        continue  # a command's next delivery may be due now
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(changed.wait(), _POLL_S)
                    # Changes come in hundreds of groups a second under load: one look per
                    # `_MIN_ROUND_S` at most (a webhook waits up to that much longer).
                    pause = _MIN_ROUND_S - (time.monotonic() - round_started)
                    if pause > 0:
                        await asyncio.sleep(pause)

    async def _send(self, http: httpx.AsyncClient, delivery: WebhookDelivery) -> None:
        view = await status_view(self._store, delivery.request_id)
        document = view.model_dump(mode="json") if view is not None else {}
        document.pop("webhook_deliveries", None)
        body = orjson.dumps({"event": delivery.status, **document})
        headers = {
            "Content-Type": "application/json",
            "X-Pusher-Event": delivery.status,
            "X-Pusher-Delivery": str(delivery.id),
        }
        if self._secret is not None:
            headers["X-Pusher-Signature"] = signature(self._secret, body)
        code: int | None = None
        error: str | None = None
        try:
            response = await http.post(delivery.url, content=body, headers=headers)
            code = response.status_code
            if not response.is_success:
                error = f"HTTP {code}"
        except httpx.HTTPError as failure:
            error = f"{type(failure).__name__}: {failure}"
        attempts = delivery.attempts + 1
        if error is None:
            await self._store.record_webhook(
                delivery.id,
                delivered_at=datetime.now(UTC),
                response_status=code,
                error=None,
                next_attempt_at=None,
            )
            return
        retry_at = None
        if attempts < self._settings.webhook_max_attempts:
            backoff = min(_MAX_BACKOFF_S, 2.0 ** (attempts - 1))
            retry_at = datetime.now(UTC) + timedelta(seconds=backoff)
        log.warning(
            "webhooks.delivery_failed",
            request_id=delivery.request_id,
            url=delivery.url,
            attempts=attempts,
            error=error,
            retry_at=retry_at.isoformat() if retry_at else None,
        )
        await self._store.record_webhook(
            delivery.id,
            delivered_at=None,
            response_status=code,
            error=error,
            next_attempt_at=retry_at,
        )
