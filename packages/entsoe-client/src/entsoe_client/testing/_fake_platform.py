"""A real HTTP server on loopback that speaks the ENTSO-E platform's protocol.

Tests (ours and downstream) point a client at ``FakePlatform.url`` and get what the platform
would send: generated documents for any area, data type and range, canned answers keyed by
query parameters, and scripted faults (429 with ``Retry-After``, bans, 5xx bursts, slow answers,
401 for a wrong token, size refusals, "No matching data", malformed XML, offset paging). Every
request is logged, token included, for assertions.

Like the platform since 2026, it refuses a load or forecast request whose end lies more than
one calendar month after its UTC start (a year for the year-ahead data), with the platform's
text: "Provided time interval (2025-04-30T22:00:00Z - 2025-05-31T22:00:00Z) is larger than
maximum allowed period 'P1M' for 'ACTUAL_TOTAL_LOAD_R3:XML' export." (``platform_limits=False``
switches that off).

    with FakePlatform(token="secret") as platform:
        platform.enqueue(Reply.server_error(503), times=2)
        ...  # EntsoeClient("secret", base_url=platform.url)

It runs in a thread (``http.server``), so it serves sync and async tests alike and needs no
event loop of its own.
"""

from __future__ import annotations

import io
import sys
import threading
import time
import zipfile
from calendar import monthrange
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

from entsoe_client.testing._catalogue_documents import horizon_of, shape_for
from entsoe_client.testing._documents import (
    acknowledgement,
    generate_document,
    no_data_text,
    parse_period,
)

XML_CONTENT_TYPE = "text/xml;charset=UTF-8"
ZIP_CONTENT_TYPE = "application/zip"
RATE_LIMIT_TEXT = "Max allowed requests per minute from each unique IP is max up to 400 only"

PLATFORM_LIMITS: dict[tuple[str, str | None], tuple[int, str]] = {
    ("A65", "A16"): (1, "ACTUAL_TOTAL_LOAD_R3"),
    ("A65", "A01"): (1, "DAY_AHEAD_TOTAL_LOAD_FORECAST_R3"),
    ("A65", "A31"): (1, "WEEK_AHEAD_TOTAL_LOAD_FORECAST_R3"),
    ("A65", "A32"): (1, "MONTH_AHEAD_TOTAL_LOAD_FORECAST_R3"),
    ("A65", "A33"): (12, "YEAR_AHEAD_TOTAL_LOAD_FORECAST_R3"),
    ("A70", "A33"): (12, "YEAR_AHEAD_FORECAST_MARGIN_R3"),
    ("A75", "A16"): (1, "AGGREGATED_GENERATION_PER_TYPE_R3"),
}
"""(documentType, processType) -> (longest range in calendar months from the UTC start, the
export's name in the refusal)."""


def months_later(moment: datetime, months: int) -> datetime:
    """``moment`` plus calendar months in UTC, the day clamped (04-30 + 1 month = 05-30)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, monthrange(year, month)[1]))


@dataclass(frozen=True)
class Reply:
    """One scripted answer. ``content=None`` means "the generated document", after ``delay``."""

    status: int = 200
    content: bytes | None = None
    content_type: str = XML_CONTENT_TYPE
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0

    @classmethod
    def xml(cls, content: bytes | str, status: int = 200) -> Reply:
        """A fixed XML body (for example a recorded platform answer)."""
        return cls(status, content.encode() if isinstance(content, str) else content)

    @classmethod
    def acknowledgement(cls, text: str, *, status: int = 400, code: str = "999") -> Reply:
        """An Acknowledgement document with the platform's reason text."""
        return cls(status, acknowledgement(text, code))

    @classmethod
    def no_data(cls, *, status: int = 200) -> Reply:
        """ "No matching data found" (reason 999), which means an empty result."""
        return cls.acknowledgement(no_data_text({}), status=status)

    @classmethod
    def too_large(cls, text: str | None = None) -> Reply:
        """The 400 refusal of a request that covers too much."""
        return cls.acknowledgement(
            text or "The number of instances (150) exceeds the allowed maximum (100)."
        )

    @classmethod
    def rate_limited(cls, retry_after: float | str | None = 1) -> Reply:
        """429 with ``Retry-After`` (seconds, or an HTTP date as a string; ``None``: none)."""
        headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
        body = f"<html><body><h1>HTTP Status 429 - Too Many Requests</h1>{RATE_LIMIT_TEXT}"
        return cls(429, f"{body}</body></html>".encode(), "text/html", headers)

    @classmethod
    def banned(cls, until: datetime) -> Reply:
        """429 with the platform's "Requester banned until <time>" text."""
        stamp = until.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = f"<html><body>{RATE_LIMIT_TEXT}. Requester banned until {stamp}</body></html>"
        return cls(429, body.encode(), "text/html")

    @classmethod
    def server_error(cls, status: int = 503) -> Reply:
        """A 5xx with an HTML body, as the platform's front end sends."""
        return cls(status, b"<html><body>Service Unavailable</body></html>", "text/html")

    @classmethod
    def unauthorized(cls) -> Reply:
        """401 as the platform sends it for a missing or wrong token."""
        return cls(
            401, b"<html><body><h1>HTTP Status 401 - Unauthorized</h1></body></html>", "text/html"
        )

    @classmethod
    def malformed(cls) -> Reply:
        """A 200 whose body is not well-formed XML."""
        return cls(200, b"<?xml version='1.0'?><GL_MarketDocument><mRID>broken")

    @classmethod
    def slow(cls, seconds: float) -> Reply:
        """The normal answer, ``seconds`` late (to trigger client timeouts)."""
        return cls(delay=seconds)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default backlog of 5 drops concurrent connects (1 s SYN retry)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (a capped or timed-out read resets the connection) is normal
        here; socketserver would print its traceback to stderr, into the output of whatever
        CLI the test runs in this process."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


@dataclass(frozen=True)
class RecordedRequest:
    """A request as the platform received it (token included), with the status it got."""

    path: str
    params: dict[str, str]
    status: int
    at: float

    @property
    def period(self) -> tuple[datetime, datetime]:
        """``(periodStart, periodEnd)`` as aware UTC datetimes."""
        return parse_period(self.params["periodStart"]), parse_period(self.params["periodEnd"])


@dataclass
class _Script:
    reply: Reply
    when: Mapping[str, str]
    times: int | None


def _matches(params: Mapping[str, str], when: Mapping[str, str]) -> bool:
    return all(params.get(key) == value for key, value in when.items())


class FakePlatform:
    """The platform on ``127.0.0.1:<free port>``; see the module docstring.

    ``max_span`` refuses (400, "exceeds the allowed maximum") any request covering more;
    ``limits`` (a copy of ``PLATFORM_LIMITS``, on unless ``platform_limits=False``) refuses as
    the platform does, in calendar months from the UTC start;
    ``latency`` delays every answer; ``hold()`` keeps every answer back until ``release()``
    (requests are logged as they arrive, so a test can act while a client waits);
    ``resolution``, ``curve_type`` and ``revision`` shape the generated documents and may be
    changed between requests.
    """

    def __init__(
        self,
        *,
        token: str | None = "test-token",  # noqa: S107  (a fake token for tests)
        resolution: str = "PT60M",
        curve_type: str = "A01",
        revision: int = 1,
        max_span: timedelta | None = None,
        latency: float = 0.0,
        page_size: int = 100,
        port: int = 0,
        platform_limits: bool = True,
    ) -> None:
        self.token = token
        self.port = port
        self.resolution = resolution
        self.curve_type = curve_type
        self.revision = revision
        self.max_span = max_span
        self.latency = latency
        self.page_size = page_size
        self.platform_limits = platform_limits
        self.limits = dict(PLATFORM_LIMITS)
        self.requests: list[RecordedRequest] = []
        self._scripts: list[_Script] = []
        self._paged: list[tuple[Mapping[str, str], int]] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._answering = threading.Event()
        self._answering.set()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The API endpoint, like ``https://web-api.tp.entsoe.eu/api``."""
        if self._server is None:
            raise RuntimeError("FakePlatform is not running; call start() or use it as a context")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/api"

    def start(self) -> Self:
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server(("127.0.0.1", self.port), _handler_for(self))
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        return self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- scripting -------------------------------------------------------------------------

    def enqueue(
        self, reply: Reply, *, times: int | None = 1, when: Mapping[str, str] | None = None
    ) -> None:
        """Answer the next ``times`` matching requests with ``reply`` (``None``: forever).

        ``when`` matches a subset of the query parameters; scripts apply in the order given.
        """
        with self._lock:
            self._scripts.append(_Script(reply, dict(when or {}), times))

    def add_response(self, when: Mapping[str, str], reply: Reply) -> None:
        """A canned answer for every request whose parameters include ``when``."""
        self.enqueue(reply, times=None, when=when)

    def add_paged(self, total_documents: int, *, when: Mapping[str, str] | None = None) -> None:
        """Page ``total_documents`` one-point documents with ``offset`` (ZIPs of ``page_size``).

        Document ``i`` holds one PT15M point at ``periodStart + 15 min * i``.
        """
        with self._lock:
            self._paged.append((dict(when or {}), total_documents))

    def hold(self) -> None:
        """Keep every answer back, from now until ``release()`` (or ``stop()``)."""
        self._answering.clear()

    def release(self) -> None:
        """Send the answers held back and answer at once again."""
        self._answering.set()

    def clear(self) -> None:
        """Forget scripts, paged data and the request log."""
        with self._lock:
            self._scripts.clear()
            self._paged.clear()
            self.requests.clear()

    def requests_for(self, **params: str) -> list[RecordedRequest]:
        """Logged requests whose parameters include ``params``."""
        return [r for r in list(self.requests) if _matches(r.params, params)]

    # -- answering -------------------------------------------------------------------------

    def _next_script(self, params: Mapping[str, str]) -> Reply | None:
        with self._lock:
            for script in self._scripts:
                if _matches(params, script.when):
                    if script.times is not None:
                        script.times -= 1
                        if script.times <= 0:
                            self._scripts.remove(script)
                    return script.reply
        return None

    def answer(self, path: str, params: Mapping[str, str]) -> Reply:
        """The reply for one request (also usable without HTTP)."""
        if not path.rstrip("/").endswith("/api"):
            return Reply(404, b"<html><body>Not Found</body></html>", "text/html")
        if self.token is not None and params.get("securityToken") != self.token:
            return Reply.unauthorized()
        scripted = self._next_script(params)
        if scripted is not None and scripted.content is not None:
            return scripted
        delay = scripted.delay if scripted is not None else 0.0
        if "periodStart" not in params or "periodEnd" not in params:
            return Reply.acknowledgement(
                "Mandatory parameters periodStart and periodEnd are missing.", code="999"
            )
        try:
            start, end = parse_period(params["periodStart"]), parse_period(params["periodEnd"])
        except ValueError:
            return Reply.acknowledgement("Invalid periodStart or periodEnd format.", code="999")
        if start >= end:
            return Reply.acknowledgement("periodStart must be before periodEnd.", code="999")
        if self.max_span is not None and end - start > self.max_span:
            return Reply(delay=delay, **_as_fields(self._too_large(params, start, end)))
        limit = self.limits.get((params.get("documentType", ""), params.get("processType")))
        if self.platform_limits and limit is not None and end > months_later(start, limit[0]):
            months, export = limit
            period = f"P{months // 12}Y" if months % 12 == 0 else f"P{months}M"
            stamp = "%Y-%m-%dT%H:%M:%SZ"
            return Reply(
                delay=delay,
                **_as_fields(
                    Reply.too_large(
                        f"Provided time interval ({start.strftime(stamp)} - {end.strftime(stamp)})"
                        f" is larger than maximum allowed period '{period}' for '{export}:XML'"
                        " export."
                    )
                ),
            )
        paged = self._paged_reply(params)
        if paged is not None:
            return Reply(delay=delay, **_as_fields(paged))
        if int(params.get("offset") or 0) > 0:  # a generated answer is always one page
            return Reply(delay=delay, **_as_fields(Reply.no_data()))
        shape = shape_for(params)
        if shape is not None and horizon_of(params, shape) is None:  # a horizon not published
            return Reply(delay=delay, **_as_fields(Reply.no_data()))
        body = generate_document(
            params,
            resolution=self.resolution,
            curve_type=self.curve_type,
            revision=self.revision,
            mrid=f"fake-{len(self.requests)}",
        )
        return Reply(200, body, delay=delay)

    def _too_large(self, params: Mapping[str, str], start: datetime, end: datetime) -> Reply:
        if params.get("documentType") == "A44":
            days = -(-(end - start) // timedelta(days=1))
            return Reply.too_large(
                f"The number of instances ({days}) exceeds the allowed maximum (100)."
            )
        return Reply.too_large(
            "The amount of requested data exceeds the allowed limit. Please reduce the "
            f"requested time interval (allowed: {self.max_span})."
        )

    def _paged_reply(self, params: Mapping[str, str]) -> Reply | None:
        with self._lock:
            paged = [total for when, total in self._paged if _matches(params, when)]
        if not paged:
            return None
        total = paged[0]
        offset = int(params.get("offset", "0"))
        if offset >= total:
            return Reply.no_data()
        start = parse_period(params["periodStart"])
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for index in range(offset, min(total, offset + self.page_size)):
                point_start = start + timedelta(minutes=15 * index)
                doc_params = {
                    **params,
                    "periodStart": point_start.strftime("%Y%m%d%H%M"),
                    "periodEnd": (point_start + timedelta(minutes=15)).strftime("%Y%m%d%H%M"),
                }
                archive.writestr(
                    f"document-{index:05d}.xml",
                    generate_document(doc_params, resolution="PT15M", mrid=f"paged-{index}"),
                )
        return Reply(200, buffer.getvalue(), ZIP_CONTENT_TYPE)

    def _record(self, path: str, params: dict[str, str], status: int) -> None:
        with self._lock:
            self.requests.append(RecordedRequest(path, params, status, time.monotonic()))


def _as_fields(reply: Reply) -> dict[str, Any]:
    return {
        "status": reply.status,
        "content": reply.content,
        "content_type": reply.content_type,
        "headers": reply.headers,
    }


def _handler_for(platform: FakePlatform) -> Callable[..., BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True
        server_version = "FakeEntsoePlatform/1.0"

        def do_GET(self) -> None:
            split = urlsplit(self.path)
            params = dict(parse_qsl(split.query, keep_blank_values=True))
            reply = platform.answer(split.path, params)
            platform._record(split.path, params, reply.status)
            wait = platform.latency + reply.delay
            if wait > 0 and platform._stopping.wait(wait):
                return
            while not platform._answering.wait(0.05):
                if platform._stopping.is_set():
                    return
            content = reply.content or b""
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(content)))
                self.send_header("Date", format_datetime(datetime.now(UTC), usegmt=True))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(content)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
                self.close_connection = True

        def log_message(self, format: str, *args: Any) -> None:
            """Silent: the request log is ``platform.requests``."""

    return Handler
