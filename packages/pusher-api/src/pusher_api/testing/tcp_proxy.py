"""A TCP proxy on a fixed port in front of a Kafka-protocol broker, to cut and restore it in tests.

Killing the dev broker loses its topics and its successor gets a new port, so an outage *with the
data kept* is made here instead: clients use the proxy's address, `cut()` drops every connection
and refuses new ones, `restore()` accepts again on the same port.

A plain byte pipe would not do: a Kafka broker tells clients its own address in Metadata and
FindCoordinator responses and clients then connect there, around the proxy. So the proxy reads
the protocol's length-prefixed frames, remembers which requests were Metadata (api key 3) or
FindCoordinator (api key 10) by correlation id, and in their responses rewrites the broker's port
(`host` string followed by the 4-byte port) to its own. Same length, so frames stay valid for
every protocol version. It is a `service_common.testing.tcp_relay.TcpRelay` (its own event loop
in a thread, so sync and async tests can both use it) whose pipes read frames.
"""

from __future__ import annotations

import asyncio
import struct

from service_common.testing.tcp_relay import Direction, TcpRelay

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


class KafkaProxy(TcpRelay):
    """`with KafkaProxy("127.0.0.1:N") as proxy:` clients use `proxy.bootstrap_servers`."""

    def __init__(self, upstream: str, listen_host: str = "127.0.0.1", listen_port: int = 0):
        super().__init__(_split_address(upstream), listen_host, listen_port)

    @property
    def bootstrap_servers(self) -> str:
        """The proxy's fixed `host:port`: what clients are given as bootstrap servers."""
        return f"{self.host}:{self.port}"

    @property
    def upstream(self) -> str:
        """The broker the proxy forwards to."""
        return f"{self._upstream[0]}:{self._upstream[1]}"

    def start(self) -> str:
        """Start listening (on a free port the first time) and return `bootstrap_servers`."""
        self._begin()
        return self.bootstrap_servers

    def cut(self) -> None:
        """Drop every open connection abruptly and refuse new ones until `restore()`."""
        self._call(self._refuse())

    def restore(self) -> None:
        """Accept connections again on the same port."""
        self._call(self._listen())

    def retarget(self, upstream: str) -> None:
        """Forward new connections to another broker (e.g. a restarted dev broker)."""
        self._upstream = _split_address(upstream)

    def _directions(self, upstream_address: tuple[str, int]) -> tuple[Direction, Direction]:
        """Requests noted by correlation id; their responses get the proxy's port."""
        host, port = upstream_address
        to_rewrite: set[int] = set()
        broker_address = host.encode() + _FRAME_SIZE.pack(port)
        proxy_address = host.encode() + _FRAME_SIZE.pack(self.port)

        async def note_request(frame: bytes) -> bytes:
            api_key = int.from_bytes(frame[4:6], "big", signed=True)
            if api_key in (_METADATA, _FIND_COORDINATOR):
                to_rewrite.add(int.from_bytes(frame[8:12], "big", signed=True))
            return frame

        async def rewrite_response(frame: bytes) -> bytes:
            correlation_id = int.from_bytes(frame[4:8], "big", signed=True)
            if correlation_id in to_rewrite:
                to_rewrite.discard(correlation_id)
                return frame.replace(broker_address, proxy_address)
            return frame

        return (_read_frame, note_request), (_read_frame, rewrite_response)
