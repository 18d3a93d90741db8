"""The dashboard against a service holding real stored data (collected and imported by the CLI).

Stored with `energy-data import` (documents from the platform stand-in's generator): DE_LU
actual load at PT15M for 2025-09-28 → 10-02 with a hole 09-30 06:00–12:00Z, the day-ahead
forecast at PT60M over the same days, and day-ahead prices at PT60M up to 2025-10-01 00:00
Brussels time and PT15M from then on (the SDAC switch). The backfill test collects from the
stand-in through the running service. Reference values come from the generator (``value_at``),
not from the service.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from entsoe_client.testing import FakePlatform, generate_document, value_at
from playwright.sync_api import Page, expect

from .conftest import TOKEN, Service, environment, run_cli, serve, wait_ready

DE_LU = "10Y1001A1001A82H"
WINDOW = "coverage_start=2025-09-28&coverage_end=2025-10-02"
HOLE = (datetime(2025, 9, 30, 6, tzinfo=UTC), datetime(2025, 9, 30, 12, tzinfo=UTC))
SWITCH = datetime(2025, 9, 30, 22, tzinfo=UTC)  # 2025-10-01 00:00 Europe/Brussels


def _document(kind: str, start: str, end: str, resolution: str) -> bytes:
    """A platform document from the stand-in's generator, as downloaded from the website."""
    params = {
        "load": {"documentType": "A65", "processType": "A16", "outBiddingZone_Domain": DE_LU},
        "forecast": {"documentType": "A65", "processType": "A01", "outBiddingZone_Domain": DE_LU},
        "prices": {"documentType": "A44", "in_Domain": DE_LU, "out_Domain": DE_LU},
    }[kind]
    return generate_document(
        {**params, "periodStart": start, "periodEnd": end},
        resolution=resolution,
        mrid=f"{kind}-{start}",
    )


DOCUMENTS = [
    ("load", "202509280000", "202509300600", "PT15M"),
    ("load", "202509301200", "202510020000", "PT15M"),  # the hole: 06:00-12:00Z
    ("forecast", "202509280000", "202510020000", "PT60M"),
    ("prices", "202509282200", "202509302200", "PT60M"),
    ("prices", "202509302200", "202510022200", "PT15M"),  # SDAC: 15 minutes from 1 October
]


@pytest.fixture(scope="module")
def service(platform: FakePlatform, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    home = tmp_path_factory.mktemp("dashboard")
    env = environment(
        f"sqlite+aiosqlite:///{home / 'energy.db'}",
        ENTSOE__API_TOKEN=TOKEN,
        ENTSOE__BASE_URL=platform.url,
        ENTSOE__REQUESTS_PER_MINUTE="",
        COLLECTION__AREAS="DE_LU",
        COLLECTION__DATA_TYPES="actual_load,day_ahead_forecast,day_ahead_prices",
        SCHEDULER__ENABLED="false",  # no jobs of its own: the page shows what the tests store
    )
    files = []
    for kind, start, end, resolution in DOCUMENTS:
        files.append(home / f"{kind}-{start}.xml")
        files[-1].write_bytes(_document(kind, start, end, resolution))
    run_cli(env, "import", *map(str, files), cwd=home)  # one process: each start costs seconds
    running = serve(env, home)
    try:
        # The day with the hole gets its quality report (computed and stored by the service).
        report = httpx.get(
            f"{running.url}/api/v1/quality/report", params={"date": "2025-09-30"}, timeout=60
        )
        assert report.status_code == 200, report.text
        yield running
    finally:
        running.stop()


def _state(page: Page, expression: str) -> Any:
    return page.evaluate(f"() => {expression}")


def _quarter_hours(start: datetime, end: datetime) -> list[datetime]:
    return [
        start + timedelta(minutes=15 * i) for i in range(int((end - start).total_seconds() // 900))
    ]


def test_heat_map_and_chart_show_the_stored_values_and_the_hole_as_a_gap(
    service: Service, open_page: Any
) -> None:
    page, log = open_page(
        f"{service.url}/?area=DE_LU&data_type=actual_load&start=2025-09-28&end=2025-10-02&{WINDOW}"
    )
    wait_ready(page)
    log.assert_clean()

    cells = {(c["area"], c["dataType"]): c for c in _state(page, "dashboard.coverage.cells")}
    load = cells[("DE_LU", "actual_load")]
    assert load["percent"] == pytest.approx(100 * (96 - 6) / 96)  # 96 h window, 6 h hole
    assert [(g["start"], g["end"]) for g in load["gaps"]] == [
        (HOLE[0].isoformat(), HOLE[1].isoformat())
    ]
    assert cells[("DE_LU", "day_ahead_forecast")]["percent"] == 100
    quality = _state(page, "dashboard.operations.quality")
    assert quality["day"] == "2025-09-30"
    (load_score,) = [s for s in quality["scores"] if s["data_type"] == "actual_load"]
    assert (load_score["present"], load_score["expected"]) == (96 - 24, 96)  # 6 h hole
    expect(page.locator("#quality")).to_contain_text("72/96")
    heat_cell = page.locator('button.cell[data-area="DE_LU"][data-data-type="actual_load"]')
    expect(heat_cell).to_have_text("93.8% ⚠")  # stale: the stored data is from 2025

    # Keyboard: focus the cell, Enter lists its gap and the last collection.
    heat_cell.focus()
    page.keyboard.press("Enter")
    detail = page.locator("#coverage-detail")
    expect(detail).to_contain_text("1 gap")
    expect(detail).to_contain_text("2025-09-30 06:00Z → 2025-09-30 12:00Z (6 h)")
    expect(detail).to_contain_text("Last successful collection: 20")
    expect(detail).to_contain_text("stale")

    line = _state(page, "dashboard.chart.lines[0]")
    expected = [
        t
        for t in _quarter_hours(
            datetime(2025, 9, 28, tzinfo=UTC), datetime(2025, 10, 2, tzinfo=UTC)
        )
        if not HOLE[0] <= t < HOLE[1]
    ]
    assert line["resolution"] == "PT15M"
    assert line["timestamps"] == [t.timestamp() for t in expected]
    assert line["values"] == [value_at(t) for t in expected]  # every point, no thinning
    assert line["gaps"] == [[HOLE[0].timestamp(), HOLE[1].timestamp()]]
    xs, ys = _state(page, "dashboard.chart.data")
    at = xs.index(HOLE[0].timestamp())
    assert ys[at] is None  # the line breaks there
    assert xs[at + 1] == HOLE[1].timestamp()
    assert _state(page, "dashboard.chart.drawnAt") is not None
    assert page.locator("#chart canvas").count() == 1
    expect(page.locator("#chart-summary")).to_contain_text("360 points, 1 series")
    expect(page.locator("#chart-summary")).to_contain_text("Europe/Berlin")

    # Hover shows local time with UTC beside it.
    box = page.locator("#chart .u-over").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 5, box["y"] + box["height"] / 2)
    legend_time = page.locator("#chart .u-legend tr").first
    expect(legend_time).to_contain_text(
        re.compile(r"2025-09-28 0[23]:\d\d (CEST|GMT\+2) · 2025-09-28 0[01]:\d\dZ")
    )

    # Keyboard zoom and pan change the view; Home restores the whole range.
    whole = _state(page, "dashboard.chart.view")
    page.locator("#chart").focus()
    page.keyboard.press("+")
    page.keyboard.press("ArrowRight")
    zoomed = _state(page, "dashboard.chart.view")
    assert zoomed["max"] - zoomed["min"] == pytest.approx((whole["max"] - whole["min"]) / 2)
    assert zoomed["min"] > whole["min"]
    page.keyboard.press("Home")
    assert _state(page, "dashboard.chart.view") == whole
    log.assert_clean()


def test_prices_show_the_switch_to_15_minutes_and_the_forecast_overlays_the_actual(
    service: Service, open_page: Any
) -> None:
    page, log = open_page(
        f"{service.url}/?area=DE_LU&data_type=day_ahead_prices&start=2025-09-29&end=2025-10-03&{WINDOW}"
    )
    wait_ready(page)
    lines = {line["resolution"]: line for line in _state(page, "dashboard.chart.lines")}
    assert set(lines) == {"PT60M", "PT15M"}
    hourly = [datetime(2025, 9, 29, tzinfo=UTC) + timedelta(hours=h) for h in range(46)]
    assert lines["PT60M"]["timestamps"] == [t.timestamp() for t in hourly]
    assert lines["PT60M"]["values"] == [value_at(t) for t in hourly]
    quarter = _quarter_hours(SWITCH, datetime(2025, 10, 2, 22, tzinfo=UTC))
    assert lines["PT15M"]["values"] == [value_at(t) for t in quarter]
    assert _state(page, "dashboard.chart.switches") == [
        {"from": "PT60M", "to": "PT15M", "at": SWITCH.timestamp()}
    ]
    expect(page.locator("#resolution-note")).to_have_text(
        re.compile(
            r"Resolution switches from PT60M to PT15M at 2025-10-01 00:00 (CEST|GMT\+2) "
            r"\(2025-09-30 22:00Z\)\."
        )
    )

    # Back to load, with the day-ahead forecast on the same chart, chosen with the keyboard.
    page.locator("#chart-type").select_option("actual_load")
    page.locator("#chart-compare").check()
    page.locator("#chart-start").fill("2025-09-29")
    page.locator("#chart-end").fill("2025-09-30")
    page.locator("#chart-form button[type=submit]").press("Enter")
    page.wait_for_function(
        "() => dashboard.chart.dataType === 'actual_load' && dashboard.chart.drawnAt"
    )
    actual, forecast = _state(page, "dashboard.chart.lines")
    hours = [datetime(2025, 9, 29, tzinfo=UTC) + timedelta(hours=h) for h in range(24)]
    assert (actual["dataType"], forecast["dataType"]) == ("actual_load", "day_ahead_forecast")
    assert forecast["resolution"] == "PT60M"
    assert forecast["timestamps"] == [t.timestamp() for t in hours]
    assert forecast["values"] == [value_at(t) for t in hours]
    assert len(actual["timestamps"]) == 96
    assert "data_type=actual_load" in page.url
    assert "start=2025-09-29" in page.url
    log.assert_clean()


def test_download_saves_the_shown_range_through_the_export(
    service: Service, open_page: Any
) -> None:
    page, log = open_page(
        f"{service.url}/?area=DE_LU&data_type=actual_load&start=2025-09-29&end=2025-09-30&{WINDOW}"
    )
    wait_ready(page)
    with page.expect_download() as download:
        page.locator("#download-csv").click()
    saved = Path(download.value.path())
    rows = saved.read_text().splitlines()
    assert rows[0].startswith("timestamp,value,")
    assert len(rows) == 1 + 96
    first = datetime(2025, 9, 29, tzinfo=UTC)
    assert rows[1].startswith(f"{first.isoformat()},{value_at(first)},")
    assert download.value.suggested_filename.endswith(".csv")
    with page.expect_download() as parquet:
        page.locator("#download-parquet").click()
    assert Path(parquet.value.path()).read_bytes()[:4] == b"PAR1"
    log.assert_clean()


def test_backfill_form_starts_a_backfill_whose_progress_appears(
    service: Service, platform: FakePlatform, open_page: Any
) -> None:
    page, log = open_page(f"{service.url}/?{WINDOW}")
    wait_ready(page)
    # Three monthly chunks, slow enough to watch them arrive (at 0.7 s a chunk a loaded CI
    # machine once saw the job already done when the page first listed it).
    platform.latency = 1.5
    try:
        page.locator("#backfill-areas").fill("NL")
        page.locator("#backfill-types").select_option(["actual_load"])
        page.locator("#backfill-start").fill("2025-06-01")
        page.locator("#backfill-end").fill("2025-09-01")
        page.locator("#backfill-submit").click()
        page.wait_for_function("() => dashboard.operations.started")
        backfill_id = _state(page, "dashboard.operations.started.id")
        progress = page.locator(f'[data-backfill-id="{backfill_id}"] progress')
        expect(progress).to_be_visible()
        expect(progress).to_have_attribute("max", "3")
        seen_running = _state(
            page, f"dashboard.operations.backfills.find(b => b.id === {backfill_id}).status"
        )
        page.wait_for_function(
            "id => dashboard.operations.backfills.some(b => b.id === id && b.status === 'done')",
            arg=backfill_id,
            timeout=30_000,
        )
    finally:
        platform.latency = 0.0
    assert seen_running == "running"
    expect(progress).to_have_attribute("value", "3")
    expect(page.locator(f'[data-backfill-id="{backfill_id}"]')).to_contain_text("3/3")
    stored = httpx.get(
        f"{service.url}/api/v1/coverage",
        params={
            "area_code": "NL",
            "data_type": "actual_load",
            "start_time": "2025-06-01",
            "end_time": "2025-09-01",
        },
        trust_env=False,
    ).json()
    assert stored["series"][0]["percent_complete"] == 100
    log.assert_clean()


def test_as_of_control_and_versions_of_a_clicked_point(service: Service, open_page: Any) -> None:
    schema = httpx.get(f"{service.url}/openapi.json", trust_env=False).json()
    names = {p["name"] for p in schema["paths"]["/api/v1/energy-data"]["get"]["parameters"]}
    page, log = open_page(
        f"{service.url}/?area=DE_LU&data_type=actual_load&start=2025-09-29&end=2025-09-30&{WINDOW}"
    )
    wait_ready(page)
    # The controls follow the API's schema (feature detection); Storage v2 offers both.
    features = _state(page, "dashboard.features")
    assert features == {
        "asOf": "as_of" in names,
        "versions": "/api/v1/energy-data/versions" in schema["paths"],
        "psrType": "psr_type" in names,
    }
    assert features["asOf"]
    assert features["versions"]
    assert page.locator("#psr-label").is_visible() == features["psrType"]
    assert "/api/v1/catalog" in schema["paths"]  # the page's own read is documented

    # A click on a point lists its versions: the document that brought the value.
    box = page.locator("#chart .u-over").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function("() => dashboard.versions")
    versions = _state(page, "dashboard.versions")
    moment = datetime.fromisoformat(versions["timestamp"])
    assert datetime(2025, 9, 29, tzinfo=UTC) <= moment < datetime(2025, 9, 30, tzinfo=UTC)
    (only,) = versions["rows"]
    assert only["value"] == value_at(moment)
    assert only["document_mrid"] == "load-202509280000"
    assert only["known_until"] is None
    expect(page.locator("#versions")).to_contain_text("load-202509280000")

    # As of a time before anything was imported nothing was known; as of now, everything.
    expect(page.locator("#as-of-label")).to_be_visible()
    page.locator("#chart-as-of").fill("2020-01-01T00:00")
    page.locator("#chart-form button[type=submit]").click()
    expect(page.locator("#chart-summary")).to_contain_text("Nothing stored")
    assert _state(page, "dashboard.chart.lines") == []
    assert "as_of=2020-01-01T00%3A00" in page.url
    page.locator("#chart-as-of").fill("")
    page.locator("#chart-form button[type=submit]").click()
    expect(page.locator("#chart-summary")).to_contain_text("96 points, 1 series")
    log.assert_clean()


VENDOR = Path(__file__).parents[2] / "src/energy_data_service/dashboard/static/vendor"


def test_assets_are_local_pinned_and_nothing_else_is_served(service: Service) -> None:
    with httpx.Client(base_url=service.url, trust_env=False) as http:
        page = http.get("/")
        assert page.status_code == 200
        policy = page.headers["content-security-policy"]
        assert "default-src 'none'" in policy
        assert "connect-src 'self'" in policy
        assert 'content="{&quot;keys_required&quot;:false' in page.text
        for path in re.findall(r'(?:src|href)="(/dashboard/[^"]+)"', page.text):
            asset = http.get(path)
            assert asset.status_code == 200, path
            assert asset.headers["content-type"].startswith(("text/javascript", "text/css")), path
        for outside in (
            "/dashboard/%2e%2e/routes.py",
            "/dashboard/..%2f__init__.py",
            "/dashboard/vendor/README.md",
            "/dashboard/nope.js",
        ):
            assert http.get(outside).status_code == 404, outside
        assert "/" not in http.get("/openapi.json").json()["paths"]
    # The vendored chart library is the pinned release, byte for byte (see vendor/README.md).
    notes = (VENDOR / "README.md").read_text()
    for name in ("uPlot.iife.min.js", "uPlot.min.css", "uPlot.LICENSE"):
        digest = hashlib.sha256((VENDOR / name).read_bytes()).hexdigest()
        assert f"| `{name}` | `dist/{name}` | `{digest}` |" in notes.replace(
            "`LICENSE`", f"`dist/{name}`"
        ), name
    assert (
        (VENDOR / "uPlot.iife.min.js")
        .read_text()
        .startswith("/*! https://github.com/leeoniya/uPlot (v1.6.32) */")
    )
