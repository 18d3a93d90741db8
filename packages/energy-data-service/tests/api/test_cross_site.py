"""Secure by default: no writes from other sites' pages, JSON bodies only, loopback without keys.

The risks held off: with no keys set, a page on any site making a visitor's browser acknowledge
alerts, run jobs or cancel backfills (bodyless POSTs need no preflight), and `serve --host
0.0.0.0` opening the API to the network without a key.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import LiveApi, api_settings, serve

ENERGY_DATA = Path(sys.executable).with_name("energy-data")
EVIL = "https://evil.example"


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": EVIL},
        {"Origin": EVIL, "Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "null"},
    ],
)
async def test_a_cross_site_write_is_refused(live_api: LiveApi, headers: dict[str, str]) -> None:
    for path in ("/api/v1/alerts/1/acknowledge", "/api/v1/backfill/1/cancel"):
        answer = await live_api.http.post(path, headers=headers)
        assert answer.status_code == 403, answer.text
        assert "refused" in answer.json()["detail"]


async def test_a_write_from_the_services_own_page_passes(live_api: LiveApi) -> None:
    headers = {"Origin": live_api.url, "Sec-Fetch-Site": "same-origin"}
    answer = await live_api.http.post("/api/v1/alerts/1/acknowledge", headers=headers)
    assert answer.status_code == 404, answer.text  # reached the route: no such alert


async def test_a_configured_cors_origin_may_write(database_url: str) -> None:
    settings = api_settings(database_url, api={"cors_origins": [EVIL]})
    async with serve(settings) as api:
        headers = {"Origin": EVIL, "Sec-Fetch-Site": "cross-site"}
        answer = await api.http.post("/api/v1/alerts/1/acknowledge", headers=headers)
        assert answer.status_code == 404, answer.text


async def test_a_body_that_is_not_json_is_refused(live_api: LiveApi) -> None:
    answer = await live_api.http.post(
        "/api/v1/alerts/1/acknowledge",
        content=b'{"by": "me"}',
        headers={"content-type": "text/plain"},
    )
    assert answer.status_code == 415, answer.text
    assert "application/json" in answer.json()["detail"]


def test_serve_refuses_to_listen_beyond_loopback_without_keys(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'e.db'}",
        "HTTP__HOST": "0.0.0.0",
        "NO_COLOR": "1",
    }
    done = subprocess.run(
        [str(ENERGY_DATA), "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 2, done.stderr
    message = " ".join(done.stderr.split())
    assert "refusing to listen on 0.0.0.0 without API keys" in message
    assert "API__KEYS" in message
    assert "--insecure" in message
    assert "Traceback" not in done.stderr


async def test_with_keys_only_liveness_stays_open(database_url: str) -> None:
    settings = api_settings(database_url, api={"keys": ["k1"]})
    async with serve(settings) as api:
        for path in ("/api/v1/health", "/metrics", "/docs", "/openapi.json"):
            assert (await api.http.get(path)).status_code == 401, path
            assert (await api.http.get(path, headers={"X-API-Key": "k1"})).status_code == 200
        assert (await api.http.get("/health")).status_code == 200
    public = api_settings(
        database_url, api={"keys": ["k1"], "metrics_public": True, "docs_public": True}
    )
    async with serve(public) as api:
        for path in ("/metrics", "/docs", "/openapi.json"):
            assert (await api.http.get(path)).status_code == 200, path
        assert (await api.http.get("/api/v1/health")).status_code == 401
