"""Cancelling a command: the service stops what it still holds, the connector what is on Kafka.

- `scheduled`: the command is not on Kafka. One UPDATE moves it to `cancelled` unless the
  scheduler claimed it first (both leave `scheduled` only if it is still in it), so a cancel a
  moment before `not_before` either wins, and the command is never published, or loses, and
  is handled as below.
- `queued` or `sent`: the record is (or is about to be) on the command topic. The service
  writes a cancellation record to `KAFKA_CANCEL_TOPIC` and waits up to `CANCEL_WAIT_MS` for the
  connector's verdict on the status topic: `cancelled` (it had not delivered the command and
  never will) → 200, `delivered` or a final state → 409 naming it. No verdict in time → 202:
  the cancellation is recorded and the connector will honour it when it gets to the command,
  unless it delivered it already; the command's events tell which.
- `delivered` or final → 409 naming the state; `cancelled` → 200 again.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime

from pusher_api.errors import CancelUnavailableError
from pusher_api.kafka_producer import CommandPublisher
from pusher_api.messages import CommandCancellation, CommandStatus
from pusher_api.store import CommandRecord, CommandStore


@dataclass(frozen=True, slots=True)
class CancelOutcome:
    """What a cancel did: `code` 200 (cancelled), 202 (requested, connector not heard yet),
    409 (too late) or 404, with the command as it is now."""

    code: int
    record: CommandRecord | None


async def cancel_command(
    request_id: str, store: CommandStore, publisher: CommandPublisher, wait_s: float
) -> CancelOutcome:
    """Cancel `request_id` as the module docstring says."""
    with store.feed.watch(request_id=request_id) as changes:
        record = await store.get(request_id)
        if record is None:
            return CancelOutcome(404, None)
        if record.status is CommandStatus.scheduled:
            if await store.cancel_scheduled(request_id, datetime.now(UTC)):
                return CancelOutcome(200, await store.get(request_id))
            record = await store.get(request_id)  # the scheduler claimed it a moment ago
            assert record is not None
        verdict = _verdict(record)
        if verdict is not None:
            return CancelOutcome(verdict, record)
        await store.request_cancel(request_id, datetime.now(UTC))
        problem = await publisher.publish_cancellation(
            CommandCancellation(request_id=request_id, device_id=record.device_id)
        )
        if problem is not None:
            raise CancelUnavailableError(
                f"the cancellation could not be recorded: {problem}; retry"
            )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        while True:
            record = await store.get(request_id)
            assert record is not None
            verdict = _verdict(record)
            if verdict is not None or loop.time() >= deadline:
                return CancelOutcome(verdict or 202, record)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changes.get(), deadline - loop.time())


def _verdict(record: CommandRecord) -> int | None:
    """200 or 409 when the command's state settles the cancel, None while it is open."""
    if record.status is CommandStatus.cancelled:
        return 200
    if record.status in (CommandStatus.queued, CommandStatus.sent, CommandStatus.scheduled):
        return None
    return 409
