"""The retry policy every channel shares: a few attempts with exponential backoff."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential


async def with_retries(
    attempt: Callable[[], Awaitable[None]],
    *,
    retries: int,
    backoff_seconds: float,
    retryable: Callable[[BaseException], bool],
) -> None:
    """Run ``attempt`` up to ``retries + 1`` times, doubling the pause; re-raise the last error."""
    async for try_ in AsyncRetrying(
        stop=stop_after_attempt(retries + 1),
        wait=wait_exponential(multiplier=backoff_seconds, max=60),
        retry=retry_if_exception(retryable),
        reraise=True,
    ):
        with try_:
            await attempt()
