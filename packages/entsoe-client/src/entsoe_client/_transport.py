"""Getting one answer from the platform: pacing, retries, rate limits and the token.

Everything HTTP-specific lives here, so the client above only sees an answer's status and bytes
or one of our exceptions. The platform allows 400 requests per minute per IP and token and bans
for about ten minutes past that; ``RequestPacer`` spaces requests below the limit for every
concurrent caller of one client, and a 429 pauses all of them, not just the caller that got it.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from entsoe_client._exceptions import (
    AnswerTooLargeError,
    AuthenticationError,
    EntsoeError,
    PlatformError,
    RateLimitError,
    ServerError,
    TransportError,
)
from entsoe_client._redaction import install_log_redaction, redact, register_secret

logger = logging.getLogger("entsoe_client")

MAX_RESPONSE_BYTES = 256 * 1024 * 1024
"""The longest answer body read (after any ``Content-Encoding`` is undone); a longer one is
refused when its ``Content-Length`` says so, or as soon as that many bytes have arrived. The
platform's largest answers (a month of generation per unit, outages as ZIP) are a few tens of
MB; a body beyond this is broken or hostile, and reading it whole would cost its size again in
parsed points."""

_BANNED_UNTIL = re.compile(r"banned until\s*:?\s*([^<\n]+?)\s*(?:</|\.?\s*$|\n)", re.I)


class RequestPacer:
    """Spaces requests ``60 / requests_per_minute`` seconds apart, shared by concurrent calls.

    Each caller reserves the next free slot before sleeping, so callers never bunch up;
    ``pause_until`` pushes every future slot back (after a 429). ``None`` turns pacing off.
    """

    def __init__(self, requests_per_minute: float | None) -> None:
        if requests_per_minute is not None and requests_per_minute <= 0:
            raise ValueError("requests_per_minute must be positive, or None for no pacing")
        self.interval = 60.0 / requests_per_minute if requests_per_minute else 0.0
        self._next_slot = 0.0

    async def wait(self) -> None:
        now = time.monotonic()
        slot = max(now, self._next_slot)
        self._next_slot = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)

    def pause_until(self, moment: float) -> None:
        """No request leaves before ``moment`` (``time.monotonic()`` clock)."""
        self._next_slot = max(self._next_slot, moment)


@dataclass(frozen=True, slots=True)
class PlatformResponse:
    """An answer the client has to read: status 200 or 400 with its body."""

    status_code: int
    content: bytes
    elapsed_ms: float


class _TokenOnTheWire(httpx.AsyncBaseTransport):
    """Adds ``securityToken`` to the URL only when the request leaves.

    httpx logs, event hooks, ``response.request`` and httpx exceptions all see the request
    without the token.
    """

    def __init__(self, token: str, inner: httpx.AsyncBaseTransport) -> None:
        self._token = token
        self._inner = inner

    def __repr__(self) -> str:
        return f"<{type(self).__name__} securityToken=***>"

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        wire = httpx.Request(
            request.method,
            request.url.copy_add_param("securityToken", self._token),
            headers=request.headers,
            stream=request.stream,
            extensions=request.extensions,
        )
        return await self._inner.handle_async_request(wire)

    async def aclose(self) -> None:
        await self._inner.aclose()


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


def parse_banned_until(text: str) -> datetime | None:
    """The end of a ban from the platform's "Requester banned until <time>" text."""
    match = _BANNED_UNTIL.search(text)
    if not match:
        return None
    raw = match.group(1).strip().rstrip(".")
    moment: datetime | None = None
    try:
        moment = datetime.fromisoformat(raw.replace(" UTC", "").replace("Z", "+00:00"))
    except ValueError:
        try:
            moment = parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _text_of(response: httpx.Response, limit: int = 300) -> str:
    text = re.sub(r"<[^>]+>", " ", response.text)
    return " ".join(text.split())[:limit]


class PlatformTransport:
    """Sends GET requests to the platform and returns its readable answers (200 or 400).

    Retries with exponential backoff and full jitter on 5xx, timeouts and connection errors;
    waits out a 429 when ``Retry-After`` or the ban is shorter than ``max_rate_limit_wait``;
    fails at once on 401. A body longer than ``max_response_bytes`` is an
    ``AnswerTooLargeError`` (not retried), read no further than the cap.
    """

    def __init__(
        self,
        token: str,
        base_url: str,
        *,
        pacer: RequestPacer,
        timeout: float,
        max_retries: int,
        backoff_base: float,
        backoff_max: float,
        max_rate_limit_wait: float,
        http_client: httpx.AsyncClient | None = None,
        max_connections: int = 10,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        if max_response_bytes < 1:
            raise ValueError("max_response_bytes must be at least 1")
        install_log_redaction()
        register_secret(token)
        self._token = token
        self._base_url = base_url
        self._pacer = pacer
        self._max_retries = max_retries
        self._backoff_base = backoff_base
        self._backoff_max = backoff_max
        self._max_rate_limit_wait = max_rate_limit_wait
        self._max_response_bytes = max_response_bytes
        self._owns_client = http_client is None
        if http_client is None:
            inner = httpx.AsyncHTTPTransport(
                limits=httpx.Limits(
                    max_connections=max_connections, max_keepalive_connections=max_connections
                )
            )
            http_client = httpx.AsyncClient(
                transport=_TokenOnTheWire(token, inner),
                timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
                headers={"Accept": "application/xml, application/zip"},
            )
        self._http = http_client

    def __repr__(self) -> str:
        return f"PlatformTransport(base_url={self._base_url!r}, securityToken=***)"

    async def aclose(self) -> None:
        if self._owns_client:
            await self._http.aclose()

    async def get(self, params: Mapping[str, str]) -> PlatformResponse:
        """One answer for ``params`` (without the token), after pacing and retries."""
        failure: EntsoeError | None = None
        for attempt in range(self._max_retries + 1):
            if attempt:
                await asyncio.sleep(self._backoff(attempt - 1))
            await self._pacer.wait()
            started = time.perf_counter()
            try:
                response = await self._send(params)
            except httpx.TimeoutException as exc:
                failure = TransportError(
                    f"The platform did not answer in time ({type(exc).__name__}) "
                    f"after {attempt + 1} attempt(s)."
                )
                logger.debug("request.timed_out: attempt %d: %s", attempt + 1, redact(str(exc)))
                continue
            except httpx.TransportError as exc:
                failure = TransportError(
                    f"Could not reach the platform at {self._base_url}: "
                    f"{type(exc).__name__}: {redact(str(exc))} (after {attempt + 1} attempt(s))."
                )
                logger.debug("request.connection_failed: attempt %d: %s", attempt + 1, failure)
                continue
            elapsed_ms = (time.perf_counter() - started) * 1000
            status = response.status_code
            logger.debug(
                "request.answered: GET %s -> %d in %.0f ms",
                redact(str(httpx.QueryParams(params))),
                status,
                elapsed_ms,
            )
            if status in (200, 400):
                return PlatformResponse(status, response.content, elapsed_ms)
            if status == 401:
                raise AuthenticationError(
                    "The platform refused the security token (401): it is missing, wrong or not "
                    "enabled for the REST API. Check ENTSOE__API_TOKEN (or pass --token).",
                    status_code=401,
                )
            if status == 429:
                failure = self._rate_limited(response)
                continue
            if status >= 500:
                failure = ServerError(
                    f"The platform answered {status} {response.reason_phrase} after "
                    f"{attempt + 1} attempt(s): {redact(_text_of(response))}",
                    status_code=status,
                )
                continue
            raise PlatformError(
                f"The platform answered {status} {response.reason_phrase}: "
                f"{redact(_text_of(response))}",
                status_code=status,
            )
        assert failure is not None
        raise failure

    async def _send(self, params: Mapping[str, str]) -> httpx.Response:
        if not self._owns_client:
            # A client we did not build has no token-adding transport: the token goes in the URL.
            params = {**params, "securityToken": self._token}
        async with self._http.stream("GET", self._base_url, params=params) as response:
            body = await self._capped_body(response)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            content=body,
            request=response.request,
        )

    async def _capped_body(self, response: httpx.Response) -> bytes:
        """The body, refused past ``max_response_bytes`` without reading the rest."""
        cap = self._max_response_bytes
        declared = response.headers.get("Content-Length", "")
        encoded = response.headers.get("Content-Encoding", "identity").lower() != "identity"
        if declared.isdigit() and int(declared) > cap and not encoded:
            raise self._too_large(int(declared))
        pieces: list[bytes] = []
        size = 0
        async for piece in response.aiter_bytes():
            size += len(piece)
            if size > cap:
                raise self._too_large(size, at_least=True)
            pieces.append(piece)
        return b"".join(pieces)

    def _too_large(self, size: int, *, at_least: bool = False) -> AnswerTooLargeError:
        cap = self._max_response_bytes
        what = f"at least {size}" if at_least else str(size)
        return AnswerTooLargeError(
            f"The platform's answer is {what} bytes long, more than the {cap} allowed "
            "(max_response_bytes); nothing of it was parsed.",
            limit_name="max_response_bytes",
            limit=cap,
            size=size,
        )

    def _backoff(self, retry: int) -> float:
        return random.uniform(0, min(self._backoff_max, self._backoff_base * 2**retry))

    def _rate_limited(self, response: httpx.Response) -> RateLimitError:
        """Pause every caller for the platform's wait, or raise if the wait is too long."""
        text = redact(_text_of(response))
        now = datetime.now(UTC)
        banned_until = parse_banned_until(response.text)
        wait = parse_retry_after(response.headers.get("Retry-After"), now)
        if banned_until is not None:
            wait = max(wait or 0.0, (banned_until - now).total_seconds())
        if wait is None:
            wait = self._backoff_max
        error = RateLimitError(
            f"The platform rate-limited this client (429): {text}",
            retry_after=wait,
            banned_until=banned_until,
        )
        if wait > self._max_rate_limit_wait:
            raise RateLimitError(
                f"{error} The platform asks to wait {wait:.0f} s, longer than "
                f"max_rate_limit_wait={self._max_rate_limit_wait:.0f} s; try again later.",
                retry_after=wait,
                banned_until=banned_until,
            )
        logger.warning("rate_limit.paused: all requests wait %.1f s", wait)
        self._pacer.pause_until(time.monotonic() + wait)
        return error
