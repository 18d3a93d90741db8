"""First run: no token, nothing stored, the API behind ``API__KEYS``.

The only thing in the database is the record of one collection refused for a wrong token (run
through the CLI against the platform stand-in), which opens an ``invalid_token`` alert: the page
must ask for the key once, send it on every API call, explain how to turn collection on or
import files, and let the alert be acknowledged.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from entsoe_client.testing import FakePlatform
from playwright.sync_api import expect

from .conftest import API_KEY, Service, environment, run_cli, serve, wait_ready


@pytest.fixture(scope="module")
def service(platform: FakePlatform, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    home = tmp_path_factory.mktemp("first-run")
    env = environment(
        f"sqlite+aiosqlite:///{home / 'energy.db'}",
        API__KEYS=API_KEY,
        COLLECTION__AREAS="DE_LU",
        COLLECTION__DATA_TYPES="actual_load",
    )
    refused = {**env, "ENTSOE__API_TOKEN": "wrong-token", "ENTSOE__BASE_URL": platform.url}
    run_cli(
        refused,
        *("collect", "--area", "DE_LU", "--data-type", "actual_load"),
        *("--start", "2025-09-28", "--end", "2025-09-29"),
        cwd=home,
        check=False,  # exit 3: the token was refused
    )
    running = serve(env, home)
    try:
        yield running
    finally:
        running.stop()


def test_first_run_asks_for_the_key_once_and_says_how_to_start(
    service: Service, open_page: Any
) -> None:
    alerts = httpx.get(
        f"{service.url}/api/v1/alerts?state=open", headers={"X-API-Key": API_KEY}, trust_env=False
    ).json()
    assert "invalid_token" in [a["rule"] for a in alerts]
    open_before = len(alerts)

    page, log = open_page(f"{service.url}/")
    dialog = page.locator("#key-dialog")
    expect(dialog).to_be_visible()
    page.locator("#key-input").fill(API_KEY)
    page.keyboard.press("Enter")
    wait_ready(page)
    expect(dialog).to_be_hidden()

    banner = page.locator("#first-run")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("collection is off until ENTSOE__API_TOKEN is set")
    expect(banner).to_contain_text("ENTSOE__API_TOKEN=your-token uv run energy-data serve")
    expect(banner).to_contain_text("uv run energy-data import FILE.xml")
    expect(page.locator("#nothing-stored")).to_be_visible()
    expect(page.locator("#service-status")).to_have_text("collection off · sqlite")
    expect(page.locator("#backfill-submit")).to_be_disabled()
    expect(page.locator("#backfill-message")).to_contain_text("set ENTSOE__API_TOKEN")
    expect(page.locator("#chart-summary")).to_contain_text("Nothing stored")

    api_calls = [r for r in log.requests if "/api/v1/" in r.url]
    assert api_calls, "the page made no API call"
    assert all(r.headers.get("x-api-key") == API_KEY for r in api_calls), [
        r.url for r in api_calls if r.headers.get("x-api-key") != API_KEY
    ]

    # Acknowledge the alert: a same-origin JSON POST carrying the key.
    button = page.get_by_role("button", name="invalid_token")
    expect(page.get_by_role("button", name="Acknowledge alert")).to_have_count(open_before)
    button.click()
    expect(page.get_by_role("button", name="Acknowledge alert")).to_have_count(open_before - 1)
    (post,) = [r for r in log.requests if r.method == "POST"]
    assert post.headers["content-type"] == "application/json"
    assert post.post_data_json == {"by": "dashboard"}
    acknowledged = httpx.get(
        f"{service.url}/api/v1/alerts?state=acknowledged",
        headers={"X-API-Key": API_KEY},
        trust_env=False,
    ).json()
    assert [(a["rule"], a["acknowledged_by"]) for a in acknowledged] == [
        ("invalid_token", "dashboard")
    ]

    # The key is kept: a reload does not ask again.
    page.reload()
    wait_ready(page)
    expect(dialog).to_be_hidden()
    log.assert_clean()
