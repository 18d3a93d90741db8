"""The client against a real HTTP server on loopback speaking the platform's protocol."""

import asyncio
import socket
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from entsoe_client import (
    AcknowledgementError,
    Area,
    AuthenticationError,
    EntsoeClient,
    ParseError,
    Query,
    RateLimitError,
    RequestTooLargeError,
    ServerError,
    TransportError,
)
from entsoe_client._transport import parse_banned_until, parse_retry_after
from entsoe_client.testing import FakePlatform, Reply, value_at

from .conftest import TOKEN, ClientFactory

START = datetime(2024, 3, 1, tzinfo=UTC)
SAMPLES = Path(__file__).resolve().parents[3] / "testdata" / "entsoe-samples"


def load_query(days: float = 2, data_type: str = "actual_load") -> Query:
    return Query.build(data_type, "DE_LU", START, START + timedelta(days=days))


def all_points(documents: list) -> list:  # type: ignore[type-arg]
    return sorted(
        (p for d in documents for ts in d.series for p in ts.points), key=lambda p: p.start
    )


async def test_fetch_returns_every_point_with_the_platforms_values(
    platform: FakePlatform, make_client: ClientFactory
) -> None:
    documents = await make_client().fetch(load_query(days=2))
    points = all_points(documents)
    assert [p.start for p in points] == [START + timedelta(hours=h) for h in range(48)]
    assert all(p.value == value_at(p.start) for p in points)
    (request,) = platform.requests
    assert request.params["securityToken"] == TOKEN
    assert request.params["outBiddingZone_Domain"] == Area.DE_LU.eic
    assert request.period == (START, START + timedelta(days=2))


async def test_recorded_platform_answer_is_read_through_the_client(
    platform: FakePlatform, make_client: ClientFactory
) -> None:
    sample = SAMPLES / "EuropeanPowerSystems__ENTSOE.jl"
    sample = sample / "test__cassettes__market_121d_day_ahead_prices_NL.yml.xml"
    platform.add_response({"documentType": "A44"}, Reply.xml(sample.read_bytes()))
    day = datetime(2024, 9, 1, 22, tzinfo=UTC)
    series = await make_client().get_day_ahead_prices("NL", day, day + timedelta(days=1))
    assert sum(len(ts.points) for ts in series) >= 24
    assert series[0].points[0].value == 91.24
    assert series[0].points[0].start == day


async def test_rate_limit_waits_for_retry_after_seconds(
    platform: FakePlatform, make_client: ClientFactory
) -> None:
    platform.enqueue(Reply.rate_limited(retry_after=0.4))
    started = time.monotonic()
    documents = await make_client().fetch(load_query(days=1))
    assert time.monotonic() - started >= 0.4
    assert len(all_points(documents)) == 24
    assert [r.status for r in platform.requests] == [429, 200]


async def test_rate_limit_honours_retry_after_as_http_date(
    platform: FakePlatform, make_client: ClientFactory
) -> None:
    when = datetime.now(UTC) + timedelta(seconds=2)
    platform.enqueue(Reply.rate_limited(retry_after=format_datetime(when, usegmt=True)))
    started = time.monotonic()
    await make_client().fetch(load_query(days=1))
    # the HTTP date has whole seconds: the wait is between 1 and 2 seconds
    assert time.monotonic() - started >= 0.9
    assert [r.status for r in platform.requests] == [429, 200]


async def test_a_long_ban_raises_at_once_with_its_end(
    platform: FakePlatform, make_client: ClientFactory
) -> None:
    until = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=10)
    platform.enqueue(Reply.banned(until), times=None)
    with pytest.raises(RateLimitError) as caught:
        await make_client().fetch(load_query(days=1))
    assert caught.value.banned_until == until
    assert caught.value.retry_after is not None
    assert caught.value.retry_after > 500
    assert "banned until" in str(caught.value)
    assert len(platform.requests) == 1


async def test_a_short_ban_is_waited_out(
    platform: FakePlatform, make_client: ClientFactory
) -> None:
    until = datetime.now(UTC) + timedelta(seconds=1.2)
    platform.enqueue(Reply.banned(until))
    documents = await make_client().fetch(load_query(days=1))
    assert datetime.now(UTC) >= until.replace(microsecond=0)
    assert len(all_points(documents)) == 24


async def test_5xx_bursts_are_retried_then_succeed(
    platform: FakePlatform, make_client: ClientFactory
) -> None:
    platform.enqueue(Reply.server_error(503), times=2)
    platform.enqueue(Reply.server_error(502))
    documents = await make_client(max_retries=3).fetch(load_query(days=1))
    assert len(all_points(documents)) == 24
    assert [r.status for r in platform.requests] == [503, 503, 502, 200]


async def test_5xx_that_never_ends_raises_server_error_after_the_retries(
    platform: FakePlatform, make_client: ClientFactory
) -> None:
    platform.enqueue(Reply.server_error(503), times=None)
    with pytest.raises(ServerError, match="503") as caught:
        await make_client(max_retries=2).fetch(load_query(days=1))
    assert caught.value.status_code == 503
    assert len(platform.requests) == 3


async def test_timeouts_are_retried(platform: FakePlatform, make_client: ClientFactory) -> None:
    platform.enqueue(Reply.slow(3.0))
    documents = await make_client(timeout=1.0).fetch(load_query(days=1))
    assert len(all_points(documents)) == 24
    assert len(platform.requests) == 2


async def test_timeouts_that_persist_raise_transport_error(
    platform: FakePlatform, make_client: ClientFactory
) -> None:
    platform.enqueue(Reply.slow(1.0), times=None)
    with pytest.raises(TransportError, match="did not answer in time"):
        await make_client(timeout=0.2, max_retries=1).fetch(load_query(days=1))
    assert len(platform.requests) == 2


async def test_unreachable_platform_raises_transport_error(make_client: ClientFactory) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = make_client(base_url=f"http://127.0.0.1:{port}/api", max_retries=1)
    with pytest.raises(TransportError, match="Could not reach the platform"):
        await client.fetch(load_query(days=1))


async def test_wrong_token_fails_fast_without_retry(
    platform: FakePlatform, make_client: ClientFactory
) -> None:
    with pytest.raises(AuthenticationError, match="ENTSOE__API_TOKEN") as caught:
        await make_client(api_token="wrong-token").fetch(load_query(days=1))
    assert caught.value.status_code == 401
    assert len(platform.requests) == 1


def test_missing_token_is_refused_before_any_request() -> None:
    with pytest.raises(AuthenticationError, match="No security token"):
        EntsoeClient("  ")


async def test_size_refusal_splits_the_chunk_until_the_platform_answers(
    make_client: ClientFactory, platform: FakePlatform
) -> None:
    platform.max_span = timedelta(days=5)
    query = load_query(days=20)  # one chunk by the table (a month), refused by the platform
    documents = await make_client().fetch(query)
    points = all_points(documents)
    assert [p.start for p in points] == [START + timedelta(hours=h) for h in range(20 * 24)]
    answered = [r.period for r in platform.requests if r.status == 200]
    refused = [r.period for r in platform.requests if r.status == 400]
    assert refused[0] == (query.start, query.end)
    assert all(end - start <= timedelta(days=5) for start, end in answered)
    # the answered ranges tile the query exactly
    assert sorted(answered)[0][0] == query.start
    assert sorted(answered)[-1][1] == query.end
    assert sum((e - s for s, e in answered), timedelta()) == query.end - query.start


async def test_size_refusal_below_the_floor_raises(
    make_client: ClientFactory, platform: FakePlatform
) -> None:
    platform.enqueue(Reply.too_large(), times=None)
    with pytest.raises(RequestTooLargeError, match="exceeds the allowed maximum"):
        await make_client(min_split=timedelta(hours=12)).fetch(load_query(days=1))
    assert len(platform.requests) == 2  # 24 h, then its first 12 h (refused at the floor)


async def test_offset_paging_reads_every_page(
    platform: FakePlatform, make_client: ClientFactory
) -> None:
    platform.add_paged(250, when={"documentType": "A80"})
    params = {"documentType": "A80", "biddingZone_Domain": Area.FR.eic}
    params |= {"periodStart": "202403010000", "periodEnd": "202403050000"}
    documents, elapsed_ms = await make_client().request(params, paged=True)
    assert len(documents) == 250
    assert len({d.mrid for d in documents}) == 250
    assert [r.params["offset"] for r in platform.requests] == ["0", "100", "200"]
    assert elapsed_ms > 0


async def test_offset_paging_that_ends_on_a_full_page_stops_at_no_data(
    platform: FakePlatform, make_client: ClientFactory
) -> None:
    platform.add_paged(200)
    params = {"documentType": "A80", "periodStart": "202403010000", "periodEnd": "202403050000"}
    documents, _ = await make_client().request(params, paged=True)
    assert len(documents) == 200
    assert [r.params["offset"] for r in platform.requests] == ["0", "100", "200"]


async def test_paging_stops_when_the_platform_ignores_offset(
    platform: FakePlatform, make_client: ClientFactory
) -> None:
    """A platform that answers every offset with the same full page must not loop 49 times."""
    amsterdam = Area.NL.time_zone
    start, end = datetime(2024, 1, 1, tzinfo=amsterdam), datetime(2024, 4, 9, tzinfo=amsterdam)
    query = Query.build("day_ahead_prices", "NL", start, end)  # 99 days: one chunk
    first = await make_client().fetch(query)
    platform.clear()
    # a full page of 100 daily series, sent again for every offset
    hundred_days = Query.build("day_ahead_prices", "NL", start, end + timedelta(days=1))
    platform.add_response({"documentType": "A44"}, Reply.xml(first_page(platform, hundred_days)))
    documents = await make_client().fetch(query)
    assert len(all_points(documents)) == 99 * 24 - 1  # 31 March has 23 hours
    assert [r.params["offset"] for r in platform.requests] == ["0", "100"]
    assert all_points(documents) == all_points(first)


def first_page(platform: FakePlatform, query: Query) -> bytes:
    from entsoe_client.testing import generate_document

    return generate_document(query.to_params(query.start, query.end))


@pytest.mark.parametrize("status", [200, 400])
async def test_no_matching_data_is_an_empty_result(
    platform: FakePlatform, make_client: ClientFactory, status: int
) -> None:
    platform.enqueue(Reply.no_data(status=status))
    assert await make_client().fetch(load_query(days=1)) == []
    assert len(platform.requests) == 1


async def test_other_acknowledgements_raise_with_the_platforms_text(
    platform: FakePlatform, make_client: ClientFactory
) -> None:
    platform.enqueue(Reply.acknowledgement("Mandatory parameter in_Domain is missing", code="999"))
    with pytest.raises(AcknowledgementError, match="in_Domain is missing") as caught:
        await make_client().fetch(load_query(days=1))
    assert caught.value.reason_code == "999"
    assert not isinstance(caught.value, RequestTooLargeError)


async def test_malformed_xml_raises_parse_error(
    platform: FakePlatform, make_client: ClientFactory
) -> None:
    platform.enqueue(Reply.malformed())
    with pytest.raises(ParseError):
        await make_client().fetch(load_query(days=1))


async def test_chunks_arrive_in_time_order_while_fetched_concurrently(
    platform: FakePlatform, make_client: ClientFactory
) -> None:
    platform.latency = 0.2
    query = Query.build("generation_per_unit", "FR", START, START + timedelta(days=8))
    client = make_client(concurrency=4)
    started = time.monotonic()
    chunks = [chunk async for chunk in client.iter_chunks(query)]
    elapsed = time.monotonic() - started
    assert [c.start for c in chunks] == [START + timedelta(days=d) for d in range(8)]
    for chunk in chunks:
        assert chunk.response_ms > 0
        assert all(
            chunk.start <= p.start < chunk.end
            for d in chunk.documents
            for ts in d.series
            for p in ts.points
        )
    assert elapsed < 8 * 0.2 * 0.75  # overlapping, not one after the other (~2 rounds of 4)


async def test_leaving_iter_chunks_early_cancels_the_rest(
    platform: FakePlatform, make_client: ClientFactory
) -> None:
    query = Query.build("generation_per_type", "FR", START, START + timedelta(days=30))
    async for _chunk in make_client(concurrency=2).iter_chunks(query):
        break
    await asyncio.sleep(0.05)
    assert len(platform.requests) <= 3


async def test_convenience_methods_return_series(
    platform: FakePlatform, make_client: ClientFactory
) -> None:
    client = make_client()
    end = START + timedelta(days=1)
    load = await client.get_actual_load(Area.DE_LU, START, end)
    assert len(load) == 1
    assert len(load[0].points) == 24
    generation = await client.get_generation_per_type("FR", START, end, psr_type="B16")
    assert [ts.psr_type for ts in generation] == ["B16"]
    flows = await client.get_physical_flows("DE_LU", "NL", START, end)
    assert flows[0].in_domain == Area.NL.eic
    assert flows[0].out_domain == Area.DE_LU.eic
    flow_request = platform.requests_for(documentType="A11")[0]
    assert flow_request.params["out_Domain"] == Area.DE_LU.eic


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("7", 7.0),
        ("0.5", 0.5),
        ("Sun, 22 Nov 2026 03:10:30 GMT", 30.0),
        ("Sun, 22 Nov 2026 03:09:00 GMT", 0.0),  # in the past: no wait
        ("soon", None),
        (None, None),
    ],
)
def test_retry_after_is_read_as_seconds_or_http_date(
    header: str | None, expected: float | None
) -> None:
    now = datetime(2026, 11, 22, 3, 10, tzinfo=UTC)
    assert parse_retry_after(header, now) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Requester banned until 2026-11-22T03:20:00Z",
        "<html><body>Max allowed ... Requester banned until 2026-11-22T03:20:00Z</body></html>",
        "Requester banned until 2026-11-22 03:20:00 UTC.",
        "requester BANNED until: Sun, 22 Nov 2026 03:20:00 GMT\n",
    ],
)
def test_ban_end_is_read_from_the_platforms_text(text: str) -> None:
    assert parse_banned_until(text) == datetime(2026, 11, 22, 3, 20, tzinfo=UTC)


def test_text_without_a_ban_has_no_ban_end() -> None:
    assert parse_banned_until("Max allowed requests per minute is 400") is None
    assert parse_banned_until("Requester banned until later") is None


async def test_429_without_retry_after_waits_the_backoff_cap(
    platform: FakePlatform, make_client: ClientFactory
) -> None:
    platform.enqueue(Reply.rate_limited(retry_after=None))
    started = time.monotonic()
    await make_client(backoff_max=0.3).fetch(load_query(days=1))
    assert time.monotonic() - started >= 0.3
    assert [r.status for r in platform.requests] == [429, 200]
