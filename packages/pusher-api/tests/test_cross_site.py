"""Secure by default: no commands from other sites' pages, JSON only, loopback without keys.

Before, with no keys set, any web page a user visited could send a `factory_reset` to a device
with a `text/plain` POST (answered 202), and `serve --host 0.0.0.0` opened it to the network.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from .conftest import RunningApi, command

PUSHER = Path(sys.executable).with_name("pusher-api")
RESET = orjson.dumps(command(device_id="victim-1", command_type="factory_reset"))


@pytest.mark.chaos
async def test_a_text_plain_command_is_refused(api: RunningApi) -> None:
    async with api.client() as http:
        answer = await http.post(
            "/api/v1/commands", content=RESET, headers={"content-type": "text/plain"}
        )
    assert answer.status_code == 415, answer.text


@pytest.mark.chaos
@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example", "content-type": "application/json"},
        {"Sec-Fetch-Site": "cross-site", "content-type": "application/json"},
    ],
)
async def test_a_cross_site_command_is_refused(api: RunningApi, headers: dict[str, str]) -> None:
    async with api.client() as http:
        answer = await http.post("/api/v1/commands", content=RESET, headers=headers)
        cancel = await http.post("/api/v1/commands/x/cancel", headers=headers)
    assert answer.status_code == 403, answer.text
    assert cancel.status_code == 403, cancel.text


async def test_a_configured_origin_may_send_commands(start_api: object) -> None:
    with start_api(cors_origins=["https://app.example"]) as api:  # type: ignore[operator]
        async with api.client() as http:
            answer = await http.post(
                "/api/v1/commands",
                content=RESET,
                headers={"Origin": "https://app.example", "content-type": "application/json"},
            )
    assert answer.status_code == 202, answer.text


def test_serve_refuses_to_listen_beyond_loopback_without_keys(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "API_HOST": "0.0.0.0", "NO_COLOR": "1"}
    done = subprocess.run(
        [str(PUSHER), "serve"], env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert done.returncode == 2, done.stderr
    message = " ".join(done.stderr.split())
    assert "refusing to listen on 0.0.0.0 without API keys" in message
    assert "API_KEYS" in message


async def test_with_keys_only_liveness_stays_open(start_api: object) -> None:
    with start_api(api_keys=["k1"]) as api:  # type: ignore[operator]
        async with api.client() as http:
            for path in ("/metrics", "/docs", "/openapi.json", "/api/v1/status"):
                assert (await http.get(path)).status_code == 401, path
                keyed = await http.get(path, headers={"X-API-Key": "k1"})
                assert keyed.status_code == 200, path
            assert (await http.get("/health")).status_code == 200
    with start_api(api_keys=["k1"], metrics_public=True, docs_public=True) as api:  # type: ignore[operator]
        async with api.client() as http:
            for path in ("/metrics", "/docs", "/openapi.json"):
                assert (await http.get(path)).status_code == 200, path
