"""Hostile answers and options: ZIP bombs, huge bodies, a token echoed in a non-XML body, no
pacing.

Before, a 15 MB ZIP of 30 members × 500 MB was unpacked (56 s, 1.6 GB), a ZIP's member count and
an answer's length had no cap, the parse error's preview of an answer showed an echoed token,
and `--requests-per-minute 0` crashed.
"""

from __future__ import annotations

import io
import time
import zipfile

import httpx
import pytest
from entsoe_client import AnswerTooLargeError, EntsoeClient, ParseError, parse_response
from entsoe_client.cli import app
from entsoe_client.testing import FakePlatform, Reply
from typer.testing import CliRunner

from .conftest import TOKEN, ClientFactory
from .test_client_http import load_query


def _bomb(members: int, member_bytes: int) -> bytes:
    buffer = io.BytesIO()
    block = b"<a>" + b" " * (1024 * 1024 - 7) + b"</a>"
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for index in range(members):
            with archive.open(f"member-{index}.xml", "w", force_zip64=True) as member:
                for _ in range(member_bytes // len(block)):
                    member.write(block)
    return buffer.getvalue()


def test_a_zip_unpacking_beyond_the_total_cap_is_refused_before_reading() -> None:
    archive = _bomb(members=6, member_bytes=8 * 1024 * 1024)  # 48 MB unpacked
    began = time.perf_counter()
    with pytest.raises(
        AnswerTooLargeError, match=r"unpacks to \d+ bytes in 6 member\(s\), more than"
    ) as caught:
        parse_response(archive, max_zip_bytes=16 * 1024 * 1024)
    seconds = time.perf_counter() - began
    print(f"\nZIP of {len(archive):,} bytes declaring 48 MB refused in {seconds * 1000:.1f} ms")
    assert seconds < 0.5
    assert isinstance(caught.value, ParseError)  # a kind of unreadable answer
    assert caught.value.limit_name == "max_zip_bytes"
    assert caught.value.limit == 16 * 1024 * 1024
    assert caught.value.size == 48 * 1024 * 1024


def _many_members(count: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for index in range(count):
            archive.writestr(f"readme-{index}.txt", b"")
    return buffer.getvalue()


@pytest.mark.parametrize("members", [20_000, 70_000], ids=["end-record", "zip64-end-record"])
def test_a_zip_declaring_too_many_members_is_refused_before_its_directory_is_read(
    members: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = _many_members(members)

    def unpacking(*args: object, **kwargs: object) -> None:
        raise AssertionError("the directory was parsed")

    monkeypatch.setattr(zipfile, "ZipFile", unpacking)
    began = time.perf_counter()
    with pytest.raises(AnswerTooLargeError, match=f"lists {members} members") as caught:
        parse_response(archive)
    seconds = time.perf_counter() - began
    print(f"\nZIP listing {members:,} members refused in {seconds * 1000:.2f} ms")
    assert caught.value.size == members


def test_a_zip_listing_too_many_members_is_refused_before_reading_one() -> None:
    archive = _many_members(20_000)
    began = time.perf_counter()
    with pytest.raises(AnswerTooLargeError, match="lists 20000 members, more than the 10000"):
        parse_response(archive)
    seconds = time.perf_counter() - began
    print(f"\nZIP of {len(archive):,} bytes listing 20,000 members refused in {seconds:.2f} s")
    with pytest.raises(AnswerTooLargeError) as caught:
        parse_response(_many_members(3), max_zip_members=2)
    assert (caught.value.limit_name, caught.value.limit, caught.value.size) == (
        "max_zip_members",
        2,
        3,
    )
    with pytest.raises(ParseError, match="holds no ENTSO-E XML document") as within:
        parse_response(_many_members(3), max_zip_members=3)  # within the cap: read, then empty
    assert not isinstance(within.value, AnswerTooLargeError)


async def test_the_client_passes_its_zip_caps_to_the_parser(
    platform: FakePlatform, make_client: ClientFactory
) -> None:
    platform.enqueue(Reply(200, _many_members(5), content_type="application/zip"))
    with pytest.raises(AnswerTooLargeError, match="max_zip_members"):
        await make_client(max_zip_members=4).fetch(load_query(days=1))
    platform.enqueue(Reply(200, _bomb(1, 2 * 1024 * 1024), content_type="application/zip"))
    with pytest.raises(AnswerTooLargeError, match="max_zip_bytes"):
        await make_client(max_zip_bytes=1024 * 1024).fetch(load_query(days=1))


async def test_an_answer_longer_than_the_cap_is_refused_and_not_retried(
    platform: FakePlatform, make_client: ClientFactory
) -> None:
    platform.enqueue(Reply.xml(b"<x>" + b" " * 100_000 + b"</x>"))
    with pytest.raises(AnswerTooLargeError, match=r"100007 bytes long, more than the 4096") as e:
        await make_client(max_response_bytes=4096).fetch(load_query(days=1))
    assert e.value.limit_name == "max_response_bytes"
    assert len(platform.requests) == 1  # refused at once: asking again would get the same


async def test_a_streamed_answer_is_read_no_further_than_the_cap() -> None:
    sent: list[int] = []

    async def endless() -> object:
        while True:
            sent.append(65536)
            yield b" " * 65536

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=endless())  # type: ignore[arg-type]

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        client = EntsoeClient(
            TOKEN,
            base_url="http://platform.test/api",
            http_client=http,
            requests_per_minute=None,
            max_response_bytes=1024 * 1024,
        )
        with pytest.raises(AnswerTooLargeError, match="at least"):
            await client.fetch(load_query(days=1))
    assert sum(sent) <= 1024 * 1024 + 2 * 65536  # stopped at the cap, not at the end


async def test_a_parse_error_never_shows_the_token(
    platform: FakePlatform, make_client: ClientFactory
) -> None:
    platform.enqueue(Reply.xml(f"error: bad request ?securityToken={TOKEN}&x=1 {TOKEN}"))
    with pytest.raises(ParseError) as caught:
        await make_client().fetch(load_query(days=1))
    assert TOKEN not in str(caught.value)
    assert "***" in str(caught.value)


def test_fetch_without_pacing(platform: FakePlatform) -> None:
    env = {"ENTSOE__API_TOKEN": TOKEN, "ENTSOE__BASE_URL": platform.url}
    result = CliRunner().invoke(
        app,
        [
            "fetch",
            "-d",
            "actual_load",
            "-a",
            "DE_LU",
            "--start",
            "2024-03-01",
            "--end",
            "2024-03-02",
            "--requests-per-minute",
            "0",
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert "timestamp" in result.stdout
