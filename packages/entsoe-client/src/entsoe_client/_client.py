"""``EntsoeClient``: ask for a data type, area and range; get every point exactly once.

A query is split into chunks the platform accepts (``PLATFORM_TABLE``; a month counted from
the chunk's UTC start, as the platform counts it), chunks are fetched a few at a time under the
shared request pacing, refused chunks are re-planned with the period the refusal names (or
halved when it names none) and retried, paged document types are read page by page, and
answers are clipped to the points that overlap the chunk and merged, so no point is lost or
doubled at a chunk edge.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Self

import httpx

from entsoe_client._areas import Area
from entsoe_client._exceptions import (
    AcknowledgementError,
    AnswerTooLargeError,
    AuthenticationError,
    ParseError,
    RequestTooLargeError,
)
from entsoe_client._models import Acknowledgement, MarketDocument, TimeSeries
from entsoe_client._parser import MAX_ZIP_MEMBERS, MAX_ZIP_TOTAL_BYTES, parse_response
from entsoe_client._queries import DataType, Query
from entsoe_client._redaction import redact
from entsoe_client._splitting import (
    Span,
    clip_documents,
    halve,
    merge_documents,
    page_offsets,
    series_identity,
    span_of_period,
    split_range,
)
from entsoe_client._transport import (
    MAX_RESPONSE_BYTES,
    PlatformResponse,
    PlatformTransport,
    RequestPacer,
)

logger = logging.getLogger("entsoe_client")

DEFAULT_BASE_URL = "https://web-api.tp.entsoe.eu/api"
PAGE_SIZE = 100
_TOO_LARGE = re.compile(
    r"exceeds\s+(the\s+)?allowed\s+(limit|maximum)"
    r"|larger\s+than\s+(the\s+)?maximum\s+allowed\s+period"
    r"|number\s+of\s+instances\b.*\bexceeds",
    re.IGNORECASE | re.DOTALL,
)
"""Every wording the platform has used to refuse a range as too large (2019-2026)."""
_ALLOWED_PERIOD = re.compile(r"maximum\s+allowed\s+period\s+'?(P\d+[DWMY])'?", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ChunkResult:
    """The documents of one chunk ``[start, end)``: every point overlaps it (``overlaps``), so
    a day, week or year point straddling a chunk edge is in both chunks' results.

    ``response_ms`` is the time spent in the platform's answers for this chunk (all pages and
    adaptive sub-requests), for monitoring.
    """

    start: datetime
    end: datetime
    documents: list[MarketDocument]
    response_ms: float

    @property
    def point_count(self) -> int:
        return sum(len(ts.points) for doc in self.documents for ts in doc.series)


def documents_from_answer(
    response: PlatformResponse,
    *,
    max_zip_bytes: int = MAX_ZIP_TOTAL_BYTES,
    max_zip_members: int = MAX_ZIP_MEMBERS,
) -> list[MarketDocument]:
    """The documents of one answer; "No matching data" is empty, other refusals raise."""
    try:
        items = parse_response(
            response.content, max_zip_bytes=max_zip_bytes, max_zip_members=max_zip_members
        )
    except AnswerTooLargeError:
        raise
    except ParseError:
        if response.status_code == 400:
            text = " ".join(
                re.sub(rb"<[^>]+>", b" ", response.content).decode(errors="replace").split()
            )
            raise AcknowledgementError(
                f"The platform refused the request (400): {redact(text[:300])}", status_code=400
            ) from None
        raise
    documents: list[MarketDocument] = []
    for item in items:
        if isinstance(item, MarketDocument):
            documents.append(item)
        elif isinstance(item, Acknowledgement) and not item.is_no_data:
            raise _refusal(item, response.status_code)
    return documents


def _refusal(ack: Acknowledgement, status_code: int) -> AcknowledgementError | RequestTooLargeError:
    text = redact(ack.reason_text)
    if _TOO_LARGE.search(text):
        named = _ALLOWED_PERIOD.search(text)
        return RequestTooLargeError(
            f"The platform refused the range as too large: {text}",
            status_code=status_code,
            reason_code=ack.reason_code,
            allowed_period=named.group(1).upper() if named else None,
        )
    return AcknowledgementError(
        f"The platform refused the request: {text}",
        status_code=status_code,
        reason_code=ack.reason_code,
    )


class EntsoeClient:
    """Async client of the ENTSO-E Transparency Platform REST API.

    ``requests_per_minute`` paces all requests of this client below the platform's limit (400
    per minute per IP and token; ``None`` turns pacing off, for benchmarks). ``concurrency``
    chunks of one query are in flight at once. ``max_rate_limit_wait`` is the longest 429
    wait (``Retry-After`` or a ban) the client sits out before raising ``RateLimitError``.
    ``min_split`` is the smallest range adaptive splitting cuts a refused chunk into.
    ``max_response_bytes``, ``max_zip_bytes`` and ``max_zip_members`` cap what one answer may
    be (its body, what its ZIP unpacks to, its ZIP's members): beyond them the answer is an
    ``AnswerTooLargeError``, refused before the excess is read.
    Pass ``http_client`` to share a pool; the client then puts the token in the request URL,
    so keep your own event hooks and logs behind ``entsoe_client.redact``.
    """

    def __init__(
        self,
        api_token: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        requests_per_minute: float | None = 400,
        timeout: float = 60.0,
        max_retries: int = 5,
        backoff_base: float = 1.0,
        backoff_max: float = 60.0,
        max_rate_limit_wait: float = 120.0,
        concurrency: int = 4,
        min_split: timedelta = timedelta(hours=1),
        http_client: httpx.AsyncClient | None = None,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        max_zip_bytes: int = MAX_ZIP_TOTAL_BYTES,
        max_zip_members: int = MAX_ZIP_MEMBERS,
    ) -> None:
        if not api_token or not api_token.strip():
            raise AuthenticationError(
                "No security token given. Set ENTSOE__API_TOKEN (or ENTSOE_API_TOKEN), or pass "
                "the token to EntsoeClient."
            )
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.base_url = base_url
        self.requests_per_minute = requests_per_minute
        self._concurrency = concurrency
        self._min_split = min_split
        self._learned_spans: dict[DataType, Span] = {}
        self._zip_limits = {"max_zip_bytes": max_zip_bytes, "max_zip_members": max_zip_members}
        self._transport = PlatformTransport(
            api_token.strip(),
            base_url,
            pacer=RequestPacer(requests_per_minute),
            timeout=timeout,
            max_retries=max_retries,
            backoff_base=backoff_base,
            backoff_max=backoff_max,
            max_rate_limit_wait=max_rate_limit_wait,
            http_client=http_client,
            max_connections=max(10, concurrency),
            max_response_bytes=max_response_bytes,
        )

    def __repr__(self) -> str:
        return (
            f"EntsoeClient(base_url={self.base_url!r}, "
            f"requests_per_minute={self.requests_per_minute!r}, api_token='***')"
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._transport.aclose()

    # -- low level -------------------------------------------------------------------------

    async def request(
        self, params: Mapping[str, str], *, paged: bool = False
    ) -> tuple[list[MarketDocument], float]:
        """The documents answering raw ``params`` and the time the answers took (ms).

        With ``paged``, reads ``offset`` pages until one is not full (fewer than 100
        documents and 100 series, the platform's "instances") or adds nothing new (a platform
        that ignores ``offset``); a range with more than the platform pages (offset 4800)
        raises ``RequestTooLargeError``.
        """
        if not paged:
            response = await self._transport.get(params)
            return documents_from_answer(response, **self._zip_limits), response.elapsed_ms
        documents: list[MarketDocument] = []
        seen: set[tuple[object, ...]] = set()
        total_ms = 0.0
        for offset in page_offsets(PAGE_SIZE):
            response = await self._transport.get({**params, "offset": str(offset)})
            page = documents_from_answer(response, **self._zip_limits)
            total_ms += response.elapsed_ms
            keys = {
                (series_identity(d, ts), p.start)
                for d in page
                for ts in d.series
                for p in ts.points
            }
            if not keys - seen:
                return documents, total_ms
            seen |= keys
            documents.extend(page)
            if max(len(page), sum(len(d.series) for d in page)) < PAGE_SIZE:
                return documents, total_ms
        raise RequestTooLargeError(
            "The range holds more documents than the platform pages (offset 0..4800)."
        )

    async def _fetch_range(
        self, query: Query, start: datetime, end: datetime
    ) -> tuple[list[MarketDocument], float]:
        """One chunk, re-planned and re-asked as long as the platform says it is too large.

        A refusal that names the longest period (``'P1M'``) re-plans the chunk with it (and the
        client remembers it for the data type's later chunks); one that names none halves it.
        """
        try:
            documents, elapsed_ms = await self.request(
                query.to_params(start, end), paged=query.rule.paged
            )
        except RequestTooLargeError as exc:
            span = span_of_period(exc.allowed_period) if exc.allowed_period else None
            pieces = split_range(start, end, span, UTC) if span is not None else []
            if span is not None and len(pieces) > 1:
                self._learned_spans[query.data_type] = span
                logger.info(
                    "range.replanned: platform refused %s..%s as larger than %s; %d requests now",
                    start,
                    end,
                    exc.allowed_period,
                    len(pieces),
                )
                found: list[MarketDocument] = []
                total_ms = 0.0
                for piece_start, piece_end in pieces:
                    part, part_ms = await self._fetch_range(query, piece_start, piece_end)
                    found.extend(part)
                    total_ms += part_ms
                return found, total_ms
            if end - start <= self._min_split:
                raise RequestTooLargeError(
                    f"{exc} Even {start.isoformat()}..{end.isoformat()} is too large; narrow the "
                    "query (for example with a psr_type).",
                    status_code=exc.status_code,
                    reason_code=exc.reason_code,
                ) from None
            middle = halve(start, end)
            logger.info("range.halved: platform refused %s..%s as too large", start, end)
            left, left_ms = await self._fetch_range(query, start, middle)
            right, right_ms = await self._fetch_range(query, middle, end)
            return left + right, left_ms + right_ms
        return clip_documents(documents, start, end), elapsed_ms

    async def _chunk(self, query: Query, start: datetime, end: datetime) -> ChunkResult:
        documents, elapsed_ms = await self._fetch_range(query, start, end)
        contract = query.asked_contract_type
        if contract is not None:
            documents = [_with_contract_type(d, contract) for d in documents]
        return ChunkResult(start, end, merge_documents(documents), elapsed_ms)

    # -- queries ---------------------------------------------------------------------------

    async def iter_chunks(self, query: Query) -> AsyncIterator[ChunkResult]:
        """Chunk results in time order, as soon as each is complete (for per-chunk persistence).

        Up to ``concurrency`` chunks are fetched ahead; leaving the loop early cancels them.
        """
        chunks = self._plan(query)
        pending: deque[asyncio.Task[ChunkResult]] = deque()
        try:
            for start, end in chunks:
                pending.append(asyncio.create_task(self._chunk(query, start, end)))
                if len(pending) >= self._concurrency:
                    break
            while pending:
                result = await pending.popleft()
                following = next(chunks, None)
                if following is not None:
                    pending.append(asyncio.create_task(self._chunk(query, *following)))
                yield result
        finally:
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    def _plan(self, query: Query) -> Iterator[tuple[datetime, datetime]]:
        """The query's chunks, planned lazily: once a refusal has named a shorter allowed
        period for the data type, the chunks not yet sent are planned with it."""
        cursor = query.start
        while cursor < query.end:
            learned = self._learned_spans.get(query.data_type)
            span = learned if learned is not None else query.rule.max_span
            tz = UTC if span.months else query.area.time_zone
            ((chunk_start, chunk_end), *_) = split_range(cursor, query.end, span, tz)
            yield chunk_start, chunk_end
            cursor = chunk_end

    async def fetch(
        self, query: Query, *, on_progress: Callable[[ChunkResult], None] | None = None
    ) -> list[MarketDocument]:
        """Every document of ``query``, merged in time order (``on_progress`` per chunk)."""
        documents: list[MarketDocument] = []
        async for chunk in self.iter_chunks(query):
            documents.extend(chunk.documents)
            if on_progress is not None:
                on_progress(chunk)
        return merge_documents(documents)

    async def fetch_series(
        self,
        data_type: DataType | str,
        area: Area | str,
        start: datetime,
        end: datetime,
        *,
        psr_type: str | None = None,
        out_area: Area | str | None = None,
    ) -> list[TimeSeries]:
        """Every series of one data type, by names as users type them."""
        query = Query.build(data_type, area, start, end, psr_type=psr_type, out_area=out_area)
        return [series for doc in await self.fetch(query) for series in doc.series]

    # -- one method per data type (the same vocabulary for every area) ----------------------

    async def get_actual_load(
        self, area: Area | str, start: datetime, end: datetime
    ) -> list[TimeSeries]:
        """Actual total load (A65/A16)."""
        return await self.fetch_series(DataType.actual_load, area, start, end)

    async def get_day_ahead_forecast(
        self, area: Area | str, start: datetime, end: datetime
    ) -> list[TimeSeries]:
        """Day-ahead total load forecast (A65/A01)."""
        return await self.fetch_series(DataType.day_ahead_forecast, area, start, end)

    async def get_week_ahead_forecast(
        self, area: Area | str, start: datetime, end: datetime
    ) -> list[TimeSeries]:
        """Week-ahead total load forecast (A65/A31)."""
        return await self.fetch_series(DataType.week_ahead_forecast, area, start, end)

    async def get_month_ahead_forecast(
        self, area: Area | str, start: datetime, end: datetime
    ) -> list[TimeSeries]:
        """Month-ahead total load forecast (A65/A32)."""
        return await self.fetch_series(DataType.month_ahead_forecast, area, start, end)

    async def get_year_ahead_forecast(
        self, area: Area | str, start: datetime, end: datetime
    ) -> list[TimeSeries]:
        """Year-ahead total load forecast (A65/A33)."""
        return await self.fetch_series(DataType.year_ahead_forecast, area, start, end)

    async def get_forecast_margin(
        self, area: Area | str, start: datetime, end: datetime
    ) -> list[TimeSeries]:
        """Year-ahead forecast margin (A70/A33)."""
        return await self.fetch_series(DataType.forecast_margin, area, start, end)

    async def get_day_ahead_prices(
        self, area: Area | str, start: datetime, end: datetime
    ) -> list[TimeSeries]:
        """Day-ahead prices of a bidding zone (A44)."""
        return await self.fetch_series(DataType.day_ahead_prices, area, start, end)

    async def get_generation_per_type(
        self, area: Area | str, start: datetime, end: datetime, *, psr_type: str | None = None
    ) -> list[TimeSeries]:
        """Actual generation per production type (A75/A16), optionally one ``psr_type``."""
        return await self.fetch_series(
            DataType.generation_per_type, area, start, end, psr_type=psr_type
        )

    async def get_wind_solar_forecast(
        self, area: Area | str, start: datetime, end: datetime, *, psr_type: str | None = None
    ) -> list[TimeSeries]:
        """Day-ahead wind and solar generation forecast (A69/A01)."""
        return await self.fetch_series(
            DataType.wind_solar_forecast, area, start, end, psr_type=psr_type
        )

    async def get_installed_capacity(
        self, area: Area | str, start: datetime, end: datetime, *, psr_type: str | None = None
    ) -> list[TimeSeries]:
        """Installed generation capacity per production type (A68/A33)."""
        return await self.fetch_series(
            DataType.installed_capacity, area, start, end, psr_type=psr_type
        )

    async def get_physical_flows(
        self, from_area: Area | str, to_area: Area | str, start: datetime, end: datetime
    ) -> list[TimeSeries]:
        """Physical cross-border flows from ``from_area`` into ``to_area`` (A11)."""
        return await self.fetch_series(
            DataType.physical_flows, to_area, start, end, out_area=from_area
        )


def _with_contract_type(document: MarketDocument, contract: str) -> MarketDocument:
    """The document with the horizon asked for on each series that does not state its own:
    the platform's transfer-capacity answers (A61) carry no ``contract_MarketAgreement.type``,
    so without it a week-ahead and a day-ahead answer of one border could not be told apart."""
    if all(s.contract_type for s in document.series):
        return document
    series = [s if s.contract_type else replace(s, contract_type=contract) for s in document.series]
    return replace(document, series=series)
