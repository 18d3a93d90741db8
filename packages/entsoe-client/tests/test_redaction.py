"""The security token never shows in logs (ours, httpx, httpcore at DEBUG), errors or reprs."""

import logging
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from entsoe_client import EntsoeClient, EntsoeError, Query, redact
from entsoe_client._redaction import RedactingFilter
from entsoe_client.testing import FakePlatform, Reply

from .conftest import TOKEN, ClientFactory

START = datetime(2024, 3, 1, tzinfo=UTC)
QUERY = Query.build("actual_load", "DE_LU", START, START + timedelta(days=1))


def test_redact_masks_the_parameter_and_known_tokens() -> None:
    url = f"https://web-api.tp.entsoe.eu/api?documentType=A65&securityToken={TOKEN}&x=1"
    assert TOKEN not in redact(url)
    assert "securityToken=***&x=1" in redact(url)
    assert redact(f"token is {TOKEN}", TOKEN) == "token is ***"


def test_filter_rewrites_records_with_arguments() -> None:
    record = logging.LogRecord(
        "httpx", logging.INFO, __file__, 1, "GET %s", (f"http://x/api?securityToken={TOKEN}",), None
    )
    assert RedactingFilter().filter(record)
    assert TOKEN not in record.getMessage()


async def test_token_never_logged_raised_or_shown(
    platform: FakePlatform, make_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "entsoe_client"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    seen: list[str] = []
    client = make_client(max_retries=1, timeout=1.0)
    seen += [repr(client), str(client), repr(client._transport)]

    await client.fetch(QUERY)  # success
    scenarios = [
        Reply.server_error(503),
        Reply.rate_limited(retry_after=600),
        Reply.banned(datetime.now(UTC) + timedelta(hours=1)),
        Reply.malformed(),
        Reply.acknowledgement(f"Something about securityToken={TOKEN} went wrong"),
        Reply.slow(2.5),
    ]
    for reply in scenarios:
        platform.clear()
        platform.enqueue(reply, times=None)
        with pytest.raises(EntsoeError) as caught:
            await client.fetch(QUERY)
        seen += [str(caught.value), repr(caught.value)]
    platform.clear()
    wrong = make_client(api_token=TOKEN + "-old")
    with pytest.raises(EntsoeError) as caught:
        await wrong.fetch(QUERY)
    seen += [str(caught.value), repr(caught.value), repr(wrong)]

    logged = [record.getMessage() for record in caplog.records]
    logged += [caplog.text]
    assert any("HTTP Request: GET" in line for line in logged), "httpx logging was not captured"
    assert any(r.name.startswith("httpcore") for r in caplog.records), "httpcore not captured"
    for text in seen + logged:
        assert TOKEN not in text
    # ...yet the token did reach the platform on the wire
    assert platform.requests[0].params["securityToken"] == TOKEN + "-old"


async def test_event_hooks_of_the_clients_own_pool_never_see_the_token(
    platform: FakePlatform, make_client: ClientFactory
) -> None:
    client = make_client()
    urls: list[str] = []

    async def hook(request: httpx.Request) -> None:
        urls.append(str(request.url))

    client._transport._http.event_hooks["request"].append(hook)
    await client.fetch(QUERY)
    assert urls
    assert all(TOKEN not in url for url in urls)
    assert platform.requests[0].params["securityToken"] == TOKEN


async def test_a_shared_http_client_works_and_its_logs_are_redacted(
    platform: FakePlatform, caplog: pytest.LogCaptureFixture
) -> None:
    """With a caller's pool the token must travel in the URL; httpx's log line is masked."""
    caplog.set_level(logging.DEBUG)
    logging.getLogger("httpx").setLevel(logging.DEBUG)
    async with httpx.AsyncClient() as shared:
        client = EntsoeClient(TOKEN, base_url=platform.url, http_client=shared)
        documents = await client.fetch(QUERY)
        await client.aclose()
        assert not shared.is_closed  # the caller's pool stays open
    assert sum(len(ts.points) for d in documents for ts in d.series) == 24
    assert platform.requests[0].params["securityToken"] == TOKEN
    lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert any("securityToken=***" in line for line in lines)
    assert all(TOKEN not in line for line in lines)
    assert TOKEN not in caplog.text
