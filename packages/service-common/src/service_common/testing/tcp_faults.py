"""A plain TCP proxy that fails the way networks fail: refused, or silent (a partition).

Put it between a client and a server (PostgreSQL, say) and switch it:

- `refuse()`: open connections are reset and new ones refused, as when the server is down;
- `blackhole()`: open connections stay open but nothing passes either way, and new ones are
  accepted and then ignored, as in a network partition or a host that vanished;
- `restore()`: bytes flow again (connections silenced by `blackhole()` are dropped, since
  their streams are no longer in step).

It rewrites nothing, so it suits any protocol whose server does not tell clients its own
address (PostgreSQL, MQTT, HTTP); a Kafka broker does, hence `pusher_api.testing.tcp_proxy`.
It is a `TcpRelay` (its own event loop in a thread, so sync and async tests can both use it).
"""

from __future__ import annotations

import asyncio

from service_common.testing.tcp_relay import Direction, TcpRelay, read_available


class FaultyTcpProxy(TcpRelay):
    """`with FaultyTcpProxy("127.0.0.1", 5432) as proxy:` clients connect to `proxy.port`."""

    def __init__(self, upstream_host: str, upstream_port: int, listen_host: str = "127.0.0.1"):
        super().__init__((upstream_host, upstream_port), listen_host)
        self.mode = "pass"
        self._flowing = asyncio.Event()
        self._flowing.set()

    def start(self) -> int:
        """Start listening on a free port; returns it."""
        self._begin()
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

    def _serves_new(self) -> bool:
        return self.mode == "pass"  # accepted during a partition: never answered

    def _keeps_finished(self) -> bool:
        return self.mode == "blackhole"  # a partition closes nothing

    def _directions(self, upstream_address: tuple[str, int]) -> tuple[Direction, Direction]:
        return (read_available, self._forward), (read_available, self._forward)

    async def _forward(self, data: bytes) -> bytes | None:
        await self._flowing.wait()  # a partition holds the bytes
        return None if self.mode == "refuse" else data
