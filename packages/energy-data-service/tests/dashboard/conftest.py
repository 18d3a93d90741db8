"""The dashboard in real headless Chromium against a real `energy-data serve` process.

One server per module (starting Chromium and the service dominates the cost): data is stored
through the real CLI (`energy-data collect` against the platform stand-in, `energy-data import`
of generated platform documents), then `energy-data serve` runs on a free loopback port. Every
page opened through ``open_page`` records console errors, failed requests and any request that
would leave the machine (those are aborted); ``assert_clean`` checks all three, and a
screenshot of every test goes to its tmp dir.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from entsoe_client.testing import FakePlatform
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, Route, sync_playwright

TOKEN = "test-token"
API_KEY = "dashboard-test-key"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ENERGY_DATA = str(Path(sys.executable).with_name("energy-data"))
VIEWPORT = {"width": 1280, "height": 800}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def environment(database_url: str, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            ("ENTSOE", "DATABASE__", "HTTP__", "SCHEDULER__", "API__", "COLLECTION__", "ALERTS__")
        )
    }
    env.update(DATABASE__URL=database_url, NO_COLOR="1", COLUMNS="200", **extra)
    return env


def run_cli(env: dict[str, str], *args: str, cwd: Path, check: bool = True) -> str:
    done = subprocess.run(
        [ENERGY_DATA, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120
    )
    if check and done.returncode != 0:
        raise AssertionError(f"energy-data {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


@dataclass
class Service:
    """A running `energy-data serve` and where it listens."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def serve(env: dict[str, str], cwd: Path) -> Service:
    port = free_port()
    log = cwd / f"serve-{port}.log"
    process = subprocess.Popen(
        [ENERGY_DATA, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=cwd,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    service = Service(f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited early:\n{log.read_text(errors='replace')}")
        try:
            if httpx.get(f"{service.url}/health", timeout=1, trust_env=False).status_code == 200:
                return service
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    service.stop()
    raise AssertionError(f"serve not ready:\n{log.read_text(errors='replace')}")


@dataclass
class PageLog:
    """What a page did that a user would call broken, or that leaves the machine."""

    origin: str
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert self.outside_requests == [], self.outside_requests
        assert self.failed_requests == [], self.failed_requests
        assert self.console_errors == [], self.console_errors


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Per module: Playwright's sync API keeps an event loop running while it is active, which
    would break every asyncio test that runs after it in the same process."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does this)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


@pytest.fixture
def open_page(
    browser: Browser, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[[str], tuple[Page, PageLog]]]:
    """``open_page(url)`` → (page, log); a screenshot is saved to tmp_path at the end."""
    contexts = []
    opened: list[Page] = []

    def open_(url: str) -> tuple[Page, PageLog]:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        log = PageLog(origin)
        context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)  # type: ignore[arg-type]
        contexts.append(context)

        def guard(route: Route) -> None:
            target = route.request.url
            if target.startswith((origin + "/", "data:", "blob:")) or target == origin:
                route.continue_()
            else:
                log.outside_requests.append(target)
                route.abort()

        context.route("**/*", guard)
        page = context.new_page()
        opened.append(page)

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                log.console_errors.append(f"{message.text} @ {message.location}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: log.console_errors.append(f"page error: {error}"))
        page.on(
            "requestfailed",
            lambda r: log.failed_requests.append(f"{r.method} {r.url}: {r.failure}"),
        )
        page.on(
            "response",
            lambda r: (
                log.failed_requests.append(f"{r.request.method} {r.url}: {r.status}")
                if r.status >= 400
                else None
            ),
        )
        page.on("request", lambda r: log.requests.append(r))
        page.goto(url)
        return page, log

    yield open_
    for index, page in enumerate(opened):
        name = request.node.name.replace("/", "_")
        page.screenshot(path=str(tmp_path / f"{name}-{index}.png"), full_page=True)
    for context in contexts:
        context.close()


def wait_ready(page: Page) -> None:
    page.wait_for_function(
        "() => window.dashboard && window.dashboard.ready === true", timeout=20_000
    )


@pytest.fixture(scope="module")
def platform() -> Iterator[FakePlatform]:
    with FakePlatform(token=TOKEN, resolution="PT15M") as fake:
        yield fake
