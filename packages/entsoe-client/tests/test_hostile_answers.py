"""Hostile answers and options: ZIP bombs, a token echoed in a non-XML body, no pacing.

Before, a 15 MB ZIP of 30 members × 500 MB was unpacked (56 s, 1.6 GB), the parse error's
preview of an answer showed an echoed token, and `--requests-per-minute 0` crashed.
"""

from __future__ import annotations

import io
import time
import zipfile

import pytest
from entsoe_client import ParseError, parse_response
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
    with pytest.raises(ParseError, match=r"unpacks to \d+ bytes in 6 member\(s\), more than"):
        parse_response(archive, max_zip_bytes=16 * 1024 * 1024)
    seconds = time.perf_counter() - began
    print(f"\nZIP of {len(archive):,} bytes declaring 48 MB refused in {seconds * 1000:.1f} ms")
    assert seconds < 0.5


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
