"""Reject request bodies over the size limit with 413 before they are parsed.

A pure ASGI middleware: it checks `Content-Length` up front and also counts the bytes actually
received, so a client that lies about the length or streams chunked data is stopped too.
"""

from __future__ import annotations

from fastapi import HTTPException, status
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodySizeLimit:
    """413 for bodies larger than `default_limit`, or `batch_limit` on paths ending `/batch`."""

    def __init__(self, app: ASGIApp, default_limit: int, batch_limit: int):
        self.app = app
        self._default_limit = default_limit
        self._batch_limit = batch_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        batch = scope["path"].endswith("/batch")
        limit = self._batch_limit if batch else self._default_limit
        detail = (
            f"batch body larger than MAX_BATCH_BYTES={limit} bytes: send fewer commands per batch"
            if batch
            else f"request body larger than MAX_COMMAND_BYTES={limit} bytes: send a smaller command"
        )
        for name, value in scope["headers"]:
            if name == b"content-length":
                if not value.isdigit() or int(value) > limit:
                    response = JSONResponse({"detail": detail}, status.HTTP_413_CONTENT_TOO_LARGE)
                    await response(scope, receive, send)
                    return
                break
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, detail)
            return message

        await self.app(scope, counting_receive, send)
