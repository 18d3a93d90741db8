"""The client's answer caps as service settings: ``ENTSOE__MAX_RESPONSE_BYTES``,
``ENTSOE__MAX_ZIP_BYTES`` and ``ENTSOE__MAX_ZIP_MEMBERS`` reach the client, and a refused answer
fails the run with a line that names the variable to change — never a traceback.

Before, the ZIP cap was a keyword of ``parse_response`` the service could not set, and neither a
ZIP's member count nor an answer's length had a cap.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from energy_data_service.cli import app
from entsoe_client.testing import FakePlatform, Reply
from typer.testing import CliRunner

TOKEN = "test-token"
COLLECT = [
    "collect",
    "--area",
    "DE_LU",
    "--data-type",
    "actual_load",
    "--start",
    "2024-05-01",
    "--end",
    "2024-05-02",
]


def _zip(members: int, member_bytes: int = 0) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for index in range(members):
            archive.writestr(f"member-{index}.xml", b" " * member_bytes)
    return buffer.getvalue()


def _collect(platform: FakePlatform, tmp_path: Path, **settings: str) -> tuple[int, str]:
    env = {
        "DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'energy.db'}",
        "ENTSOE__API_TOKEN": TOKEN,
        "ENTSOE__BASE_URL": platform.url,
        "ENTSOE__REQUESTS_PER_MINUTE": "",
        "NO_COLOR": "1",
        "COLUMNS": "250",
        **settings,
    }
    result = CliRunner().invoke(app, COLLECT, env=env)
    return result.exit_code, " ".join(result.output.split())


@pytest.mark.parametrize(
    ("setting", "value", "reply"),
    [
        ("ENTSOE__MAX_RESPONSE_BYTES", "2048", None),  # a day of load is ~3 KB of XML
        ("ENTSOE__MAX_ZIP_MEMBERS", "2", Reply(200, _zip(3), content_type="application/zip")),
        (
            "ENTSOE__MAX_ZIP_BYTES",
            "4096",
            Reply(200, _zip(1, 8192), content_type="application/zip"),
        ),
    ],
)
def test_an_answer_beyond_a_cap_fails_the_run_naming_the_setting(
    tmp_path: Path, setting: str, value: str, reply: Reply | None
) -> None:
    with FakePlatform(token=TOKEN) as platform:
        if reply is not None:
            platform.enqueue(reply)
        code, output = _collect(platform, tmp_path, **{setting: value})
        assert len(platform.requests) == 1  # refused, not asked again
    assert code != 0, output
    assert f"raise {setting} to accept it" in output
    assert f"{setting}={value} refused it" in output
    assert "Traceback" not in output


def test_within_the_caps_the_same_answers_are_stored(tmp_path: Path) -> None:
    with FakePlatform(token=TOKEN) as platform:
        code, output = _collect(platform, tmp_path, ENTSOE__MAX_RESPONSE_BYTES="1048576")
    assert code == 0, output
    assert "│ 24 │ ok" in output, output  # the day's 24 hourly points
