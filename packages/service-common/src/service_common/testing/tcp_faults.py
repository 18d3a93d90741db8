"""A plain TCP proxy that fails the way networks fail: refused, or silent (a partition).

Put it between a client and a server (PostgreSQL, say) and switch it:

- `refuse()`: open connections are reset and new ones refused, as when the server is down;
- `blackhole()`: open connections stay open but nothing passes either way, and new ones are
  accepted and then ignored, as in a network partition or a host that vanished;
- `restore()`: bytes flow again (connections silenced by `blackhole()` are dropped, since
  their streams are no longer in step).

It rewrites nothing, so it suits any protocol whose server does not tell clients its own
address (PostgreSQL, MQTT, HTTP); a Kafka broker does, hence `pusher_api.testing.tcp_proxy`.
It runs its own event loop in a thread, so sync and async tests can both use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from concurrent.futures import Future
from types import TracebackType
from typing import Any


class FaultyTcpProxy:
    """`with FaultyTcpProxy("127.0.0.1", 5432) as proxy:` clients connect to `proxy.port`."""

    def __init__(self, upstream_host: str, upstream_port: int, listen_host: str = "127.0.0.1"):
        self._upstream = (upstream_host, upstream_port)
        self.host = listen_host
        self.port = 0
        self.mode = "pass"
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._transports: set[asyncio.BaseTransport] = set()
        self._flowing = asyncio.Event()
        self._flowing.set()

    def _call(self, coroutine: Any) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return future.result(timeout=10)

    def start(self) -> int:
        """Start listening on a free port; returns it."""
        self._thread.start()
        self._call(self._listen())
        return self.port

    def refuse(self) -> None:
        """Reset every connection and refuse new ones until `restore()`."""
        self.mode = "refuse"
        self._call(self._refuse())

    def blackhole(self) -> None:
        """Stop passing bytes, without closing anything: the peers just hear nothing."""
        self.mode = "blackhole"
        self._loop.call_soon_threadsafe(self._flowing.clear)

    def restore(self) -> None:
        """Pass bytes again on the same port (silenced connections are dropped first)."""
        was, self.mode = self.mode, "pass"
        if was == "blackhole":
            self._call(self._abort_all())
        self._loop.call_soon_threadsafe(self._flowing.set)
        self._call(self._listen())

    def close(self) -> None:
        """Drop everything and stop the proxy's thread."""
        if self._thread.is_alive():
            self._call(self._refuse())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
            self._loop.close()

    async def _listen(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(
                self._handle, self.host, self.port, reuse_address=True
            )
            self.port = self._server.sockets[0].getsockname()[1]

    async def _refuse(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        await self._abort_all()

    async def _abort_all(self) -> None:
        for transport in list(self._transports):
            transport.abort()  # type: ignore[attr-defined]
        self._transports.clear()

    async def _handle(
        self, client_reader: asyncio.StreamReader, client: asyncio.StreamWriter
    ) -> None:
        self._transports.add(client.transport)
        if self.mode != "pass":  # accepted during a partition: never answered
            return
        try:
            upstream_reader, upstream = await asyncio.open_connection(*self._upstream)
        except OSError:
            client.transport.abort()
            return
        self._transports.add(upstream.transport)
        pipes = [
            asyncio.ensure_future(self._pipe(client_reader, upstream)),
            asyncio.ensure_future(self._pipe(upstream_reader, client)),
        ]
        try:
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pipe in pipes:
                pipe.cancel()
            if self.mode != "blackhole":
                for transport in (client.transport, upstream.transport):
                    transport.abort()
                    self._transports.discard(transport)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while True:
                data = await reader.read(65536)
                if not data:
                    return
                await self._flowing.wait()  # a partition holds the bytes
                if self.mode == "refuse":
                    return
                writer.write(data)
                await writer.drain()

    def __enter__(self) -> FaultyTcpProxy:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
