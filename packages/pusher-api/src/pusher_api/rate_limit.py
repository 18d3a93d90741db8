"""Per-caller request rate limit: a token bucket per API key (or client address)."""

from __future__ import annotations

import time


class RateLimiter:
    """Allows `per_minute` requests per caller per minute, in bursts of up to `per_minute`.

    A token bucket rather than fixed windows, so a caller at the limit is told exactly when the
    next request will pass (`Retry-After`) and no burst doubles at a window boundary.
    """

    def __init__(self, per_minute: int):
        self._capacity = float(per_minute)
        self._refill_per_s = per_minute / 60.0
        self._buckets: dict[str, tuple[float, float]] = {}

    def acquire(self, caller: str) -> float | None:
        """Take one token; None when allowed, else the seconds until a token is available."""
        now = time.monotonic()
        tokens, updated = self._buckets.get(caller, (self._capacity, now))
        tokens = min(self._capacity, tokens + (now - updated) * self._refill_per_s)
        if tokens >= 1.0:
            self._buckets[caller] = (tokens - 1.0, now)
            return None
        self._buckets[caller] = (tokens, now)
        return (1.0 - tokens) / self._refill_per_s
