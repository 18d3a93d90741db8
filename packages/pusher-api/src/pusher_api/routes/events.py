"""Server-sent event streams of status changes: one command's, or every command of a device.

`GET /api/v1/commands/{request_id}/events`: the command's current status first, then one event
per change, and the stream ends after a final state (at once when the command is final
already). `GET /api/v1/devices/{device_id}/events`: one event per change of any of the device's
commands, from the moment of connecting, until the client leaves (`queued`, which lasts until
the broker answers, is left out: `sent` or `failed` follows). Each event is

    event: status
    id: <request_id>:<status>
    data: <the command's status, as GET …/status shows it>

with a `: keep-alive` comment every 15 s of silence so proxies keep the connection. Any replica
serves any stream: changes reach every replica through the store's change feed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path
from fastapi.responses import StreamingResponse

from pusher_api.changes import RESYNC, Change
from pusher_api.deps import Caller, StoreDep
from pusher_api.messages import DEVICE_ID_PATTERN, CommandStatus
from pusher_api.routes.commands import not_found
from pusher_api.schemas import CommandStatusView
from pusher_api.views import status_view

router = APIRouter(prefix="/api/v1", tags=["events"])

KEEP_ALIVE_S = 15.0
_STREAM: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/event-stream": {}},
        "description": "`event: status` events whose data is a CommandStatusView",
    },
    401: {"description": "missing or invalid X-API-Key"},
}
_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def sse_event(view: CommandStatusView) -> bytes:
    """One `status` event of the stream."""
    data = orjson.dumps(view.model_dump(mode="json"))
    return b"event: status\nid: %s:%s\ndata: %s\n\n" % (
        view.request_id.encode(),
        view.status.value.encode(),
        data,
    )


@router.get(
    "/commands/{request_id}/events",
    response_class=StreamingResponse,
    responses={**_STREAM, 404: {"description": "unknown"}},
)
async def command_events(request_id: str, caller: Caller, store: StoreDep) -> StreamingResponse:
    """The command's status now, then every change until a final state."""
    watch = store.feed.watch(request_id=request_id)
    changes = watch.__enter__()
    first = await status_view(store, request_id)
    if first is None:
        watch.__exit__(None, None, None)
        raise not_found(request_id)

    async def stream() -> AsyncIterator[bytes]:
        try:
            view: CommandStatusView | None = first
            shown = None
            while view is not None:
                if (view.status, len(view.webhook_deliveries)) != shown:
                    shown = (view.status, len(view.webhook_deliveries))
                    yield sse_event(view)
                if view.status.is_final:
                    return
                change = await _next_change(changes)
                if change is None:
                    yield b": keep-alive\n\n"
                    continue
                view = await status_view(store, request_id)
        finally:
            watch.__exit__(None, None, None)

    return StreamingResponse(stream(), media_type="text/event-stream", headers=_HEADERS)


@router.get("/devices/{device_id}/events", response_class=StreamingResponse, responses=_STREAM)
async def device_events(
    device_id: Annotated[str, Path(pattern=DEVICE_ID_PATTERN)], caller: Caller, store: StoreDep
) -> StreamingResponse:
    """Every change of the device's commands from now on."""
    watch = store.feed.watch(device_id=device_id)
    changes = watch.__enter__()

    async def stream() -> AsyncIterator[bytes]:
        shown: dict[str, str] = {}  # request id → status last sent, so no change shows twice
        try:
            while True:
                change = await _next_change(changes)
                if change is None:
                    yield b": keep-alive\n\n"
                    continue
                if change is RESYNC:
                    continue
                view = await status_view(store, change.request_id)
                if view is None or view.status is CommandStatus.queued:
                    continue  # queued lasts until the broker answers: sent or failed follows
                if shown.get(view.request_id) == view.status.value:
                    continue
                if len(shown) > 10_000:
                    shown.clear()
                shown[view.request_id] = view.status.value
                yield sse_event(view)
        finally:
            watch.__exit__(None, None, None)

    return StreamingResponse(stream(), media_type="text/event-stream", headers=_HEADERS)


async def _next_change(changes: asyncio.Queue[Change]) -> Change | None:
    """The next change, or None after `KEEP_ALIVE_S` without one."""
    with contextlib.suppress(TimeoutError):
        return await asyncio.wait_for(changes.get(), KEEP_ALIVE_S)
    return None
