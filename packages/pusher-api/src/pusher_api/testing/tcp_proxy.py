"""A TCP proxy on a fixed port in front of a Kafka-protocol broker, to cut and restore it in tests.

Killing the dev broker loses its topics and its successor gets a new port, so an outage *with the
data kept* is made here instead: clients use the proxy's address, `cut()` drops every connection
and refuses new ones, `restore()` accepts again on the same port.

A plain byte pipe would not do: a Kafka broker tells clients its own address in Metadata and
FindCoordinator responses and clients then connect there, around the proxy. So the proxy reads
the protocol's length-prefixed frames, remembers which requests were Metadata (api key 3) or
FindCoordinator (api key 10) by correlation id, and in their responses rewrites the broker's port
(`host` string followed by the 4-byte port) to its own. Same length, so frames stay valid for
every protocol version. It runs its own event loop in a thread, so sync and async tests can both
use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
import threading
from concurrent.futures import Future
from types import TracebackType
from typing import Any

_METADATA = 3
_FIND_COORDINATOR = 10
_FRAME_SIZE = struct.Struct(">i")


def _split_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host, int(port)


async def _read_frame(reader: asyncio.StreamReader) -> bytes:
    header = await reader.readexactly(4)
    (size,) = _FRAME_SIZE.unpack(header)
    return header + await reader.readexactly(size)


class KafkaProxy:
    """`with KafkaProxy("127.0.0.1:N") as proxy:` clients use `proxy.bootstrap_servers`."""

    def __init__(self, upstream: str, listen_host: str = "127.0.0.1", listen_port: int = 0):
        self._upstream = _split_address(upstream)
        self._listen_host = listen_host
        self._listen_port = listen_port
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._connections: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()

    @property
    def bootstrap_servers(self) -> str:
        """The proxy's fixed `host:port`: what clients are given as bootstrap servers."""
        return f"{self._listen_host}:{self._listen_port}"

    @property
    def upstream(self) -> str:
        """The broker the proxy forwards to."""
        return f"{self._upstream[0]}:{self._upstream[1]}"

    def _call(self, coroutine: Any) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return future.result(timeout=10)

    def start(self) -> str:
        """Start listening (on a free port the first time) and return `bootstrap_servers`."""
        self._thread.start()
        self._call(self._listen())
        return self.bootstrap_servers

    def cut(self) -> None:
        """Drop every open connection abruptly and refuse new ones until `restore()`."""
        self._call(self._cut())

    def restore(self) -> None:
        """Accept connections again on the same port."""
        self._call(self._listen())

    def retarget(self, upstream: str) -> None:
        """Forward new connections to another broker (e.g. a restarted dev broker)."""
        self._upstream = _split_address(upstream)

    def close(self) -> None:
        """Cut all connections and stop the proxy's thread."""
        if self._thread.is_alive():
            self._call(self._cut())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
            self._loop.close()

    async def _listen(self) -> None:
        if self._server is not None:
            return
        self._server = await asyncio.start_server(
            self._handle, self._listen_host, self._listen_port, reuse_address=True
        )
        self._listen_port = self._server.sockets[0].getsockname()[1]

    async def _cut(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for client_writer, upstream_writer in list(self._connections):
            client_writer.transport.abort()
            upstream_writer.transport.abort()
        self._connections.clear()

    async def _handle(
        self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        host, port = self._upstream
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(host, port)
        except OSError:
            client_writer.transport.abort()
            return
        pair = (client_writer, upstream_writer)
        self._connections.add(pair)
        to_rewrite: set[int] = set()
        broker_address = host.encode() + _FRAME_SIZE.pack(port)
        proxy_address = host.encode() + _FRAME_SIZE.pack(self._listen_port)
        pipes = [
            asyncio.ensure_future(self._pipe_requests(client_reader, upstream_writer, to_rewrite)),
            asyncio.ensure_future(
                self._pipe_responses(
                    upstream_reader, client_writer, to_rewrite, broker_address, proxy_address
                )
            ),
        ]
        try:
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pipe in pipes:
                pipe.cancel()
            client_writer.transport.abort()
            upstream_writer.transport.abort()
            self._connections.discard(pair)

    @staticmethod
    async def _pipe_requests(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, to_rewrite: set[int]
    ) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while True:
                frame = await _read_frame(reader)
                api_key = int.from_bytes(frame[4:6], "big", signed=True)
                if api_key in (_METADATA, _FIND_COORDINATOR):
                    to_rewrite.add(int.from_bytes(frame[8:12], "big", signed=True))
                writer.write(frame)
                await writer.drain()

    @staticmethod
    async def _pipe_responses(
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        to_rewrite: set[int],
        broker_address: bytes,
        proxy_address: bytes,
    ) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while True:
                frame = await _read_frame(reader)
                correlation_id = int.from_bytes(frame[4:8], "big", signed=True)
                if correlation_id in to_rewrite:
                    to_rewrite.discard(correlation_id)
                    frame = frame.replace(broker_address, proxy_address)
                writer.write(frame)
                await writer.drain()

    def __enter__(self) -> KafkaProxy:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
