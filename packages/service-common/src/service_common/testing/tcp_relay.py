"""The one TCP relay the test proxies are built on: a listener in a thread, two pipes a connection.

`TcpRelay` listens on a port in an event loop of its own (so sync and async tests can both use
it), opens a connection upstream for each client and pipes bytes both ways with `relay` until
either side ends. What a proxy adds is its hooks: whether a new connection is served at all,
how each pipe reads and what it forwards (`_directions`), and whether a finished connection
is aborted.
`FaultyTcpProxy` (network faults) and `pusher_api.testing.tcp_proxy.KafkaProxy` (a Kafka
broker's own address rewritten) are the two.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import Future
from threading import Thread
from types import TracebackType
from typing import Any, Self

ReadChunk = Callable[[asyncio.StreamReader], Awaitable[bytes]]
Forward = Callable[[bytes], Awaitable[bytes | None]]
Direction = tuple[ReadChunk, Forward]
"""How one pipe reads its chunks and what it forwards of each."""


async def read_available(reader: asyncio.StreamReader) -> bytes:
    """Whatever bytes have arrived (up to 64 KiB); empty at the end of the stream."""
    return await reader.read(65536)


async def forward_as_is(data: bytes) -> bytes:
    """Pass a chunk on unchanged."""
    return data


async def relay(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    read_chunk: ReadChunk = read_available,
    forward: Forward = forward_as_is,
) -> None:
    """Copy chunks from `reader` to `writer` until the stream ends or `forward` returns None.

    A reset or a stream cut mid-chunk ends the pipe quietly: that is what the proxies make.
    """
    with contextlib.suppress(OSError, asyncio.IncompleteReadError):
        while True:
            data = await read_chunk(reader)
            if not data:
                return
            sent = await forward(data)
            if sent is None:
                return
            writer.write(sent)
            await writer.drain()


class TcpRelay:
    """Relays every connection to `upstream`; `host`/`port` is where clients connect."""

    def __init__(self, upstream: tuple[str, int], listen_host: str, listen_port: int = 0):
        self._upstream = upstream
        self.host = listen_host
        self.port = listen_port
        self._loop = asyncio.new_event_loop()
        self._thread = Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._transports: set[asyncio.BaseTransport] = set()
        self._held: set[asyncio.StreamWriter] = set()
        """Writers of connections held open (a partition): a collected ``StreamWriter`` closes
        its transport, which would end the connection the fault is meant to keep silent."""

    def _call(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return future.result(timeout=10)

    def _begin(self) -> None:
        """Start the loop's thread and listen (on a free port when `port` is 0)."""
        self._thread.start()
        self._call(self._listen())

    def close(self) -> None:
        """Drop everything and stop the relay's thread."""
        if self._thread.is_alive():
            self._call(self._refuse())
            self._call(self._cancel_handlers())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
            self._loop.close()

    async def _cancel_handlers(self) -> None:
        """End the connection handlers still waiting (a blackholed connection's pipes wait
        forever), so none is left pending when the loop closes."""
        current = asyncio.current_task()
        handlers = [task for task in asyncio.all_tasks() if task is not current]
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)

    async def _listen(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(
                self._handle, self.host, self.port, reuse_address=True
            )
            self.port = self._server.sockets[0].getsockname()[1]

    async def _refuse(self) -> None:
        """Stop listening and reset every open connection."""
        if self._server is not None:
            self._server.close()
            self._server = None
        await self._abort_all()

    async def _abort_all(self) -> None:
        for transport in list(self._transports):
            transport.abort()  # type: ignore[attr-defined]
        self._transports.clear()
        self._held.clear()

    def _serves_new(self) -> bool:
        """Whether a connection just accepted is relayed (else it is held and never answered)."""
        return True

    def _keeps_finished(self) -> bool:
        """Whether a connection whose pipes ended stays open (else both sides are aborted)."""
        return False

    def _directions(self, upstream_address: tuple[str, int]) -> tuple[Direction, Direction]:
        """A new connection's two pipes: client to upstream, then upstream to client."""
        return (read_available, forward_as_is), (read_available, forward_as_is)

    async def _handle(
        self, client_reader: asyncio.StreamReader, client: asyncio.StreamWriter
    ) -> None:
        self._transports.add(client.transport)
        if not self._serves_new():
            self._held.add(client)
            return
        address = self._upstream
        try:
            upstream_reader, upstream = await asyncio.open_connection(*address)
        except OSError:
            client.transport.abort()
            return
        self._transports.add(upstream.transport)
        (read_request, forward_request), (read_answer, forward_answer) = self._directions(address)
        pipes = [
            asyncio.ensure_future(relay(client_reader, upstream, read_request, forward_request)),
            asyncio.ensure_future(relay(upstream_reader, client, read_answer, forward_answer)),
        ]
        try:
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pipe in pipes:
                pipe.cancel()
            if self._keeps_finished():
                self._held.update((client, upstream))
            else:
                for transport in (client.transport, upstream.transport):
                    transport.abort()
                    self._transports.discard(transport)

    def __enter__(self) -> Self:
        self._begin()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
