"""``/api/v1/energy-data`` over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime, timedelta

import pyarrow.parquet as pq
from sqlalchemy import event

from .conftest import DE_LU, LiveApi, api_settings, seed, series, serve

DST_END = datetime(2025, 10, 25, 22, tzinfo=UTC)  # local midnight of the 25-hour day (CEST)
WINDOW = {"area_code": "DE_LU", "data_type": "actual_load"}


async def test_json_pages_chain_through_the_cursor_without_loss(live_api: LiveApi) -> None:
    await seed(live_api.container, series(DST_END - timedelta(days=1), 300))
    params = {
        **WINDOW,
        "start_time": "2025-10-24T22:00:00Z",
        "end_time": "2025-10-29T00:00:00Z",
        "limit": 128,
    }
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        answer = await live_api.http.get(
            "/api/v1/energy-data", params={**params, **({"cursor": cursor} if cursor else {})}
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["area"] == "DE_LU"
        assert body["area_code"] == DE_LU
        assert body["series"] == {
            "business_type": "A04",
            "resolution": "PT15M",
            "classification_sequence": 0,
            "unit": "MAW",
            "out_area_code": "",
            "psr_type": "",
            "contract_type": "",
            "flow_direction": "",
            "price_category": "",
            "registered_resource": "",
        }
        seen += [point["timestamp"] for point in body["points"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert len(seen) == len(set(seen)) == 300
    assert seen[0] == "2025-10-24T22:00:00+00:00"
    assert seen == sorted(seen)


async def test_default_window_values_and_the_hard_cap(live_api: LiveApi) -> None:
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    await seed(live_api.container, series(now - timedelta(hours=2), 4, value=lambda i: i / 3))
    answer = await live_api.http.get("/api/v1/energy-data", params=WINDOW)
    assert answer.status_code == 200
    assert [p["value"] for p in answer.json()["points"]] == [0.0, 1 / 3, 2 / 3, 1.0]

    too_many = await live_api.http.get("/api/v1/energy-data", params={**WINDOW, "limit": 100_001})
    assert too_many.status_code == 400
    assert "cap of 100000" in too_many.json()["detail"]


async def test_csv_and_parquet_stream_every_point(live_api: LiveApi) -> None:
    await seed(live_api.container, series(DST_END, 12_000))
    params = {**WINDOW, "start_time": "2025-10-01", "end_time": "2026-03-01"}
    answer = await live_api.http.get("/api/v1/energy-data", params={**params, "format": "csv"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert len(rows) == 12_000
    assert rows[0]["timestamp"] == "2025-10-25T22:00:00+00:00"
    assert float(rows[-1]["value"]) == 1000.0 + 11_999
    assert rows[0]["resolution"] == "PT15M"
    assert rows[0]["area_code"] == DE_LU

    answer = await live_api.http.get("/api/v1/energy-data", params={**params, "format": "parquet"})
    assert answer.status_code == 200
    table = pq.read_table(io.BytesIO(answer.content))
    assert table.num_rows == 12_000
    assert table.column("value").to_pylist()[:2] == [1000.0, 1001.0]


async def test_two_resolutions_and_sequences_are_never_mixed(live_api: LiveApi) -> None:
    start = datetime(2025, 10, 1, 22, tzinfo=UTC)
    prices = {"data_type": "day_ahead_prices", "unit": "EUR/MWH"}
    await seed(
        live_api.container, series(start, 24, step=timedelta(hours=1), resolution="PT60M", **prices)
    )
    await seed(live_api.container, series(start, 96, sequence=1, value=lambda i: 50.0, **prices))
    await seed(live_api.container, series(start, 96, sequence=2, value=lambda i: 60.0, **prices))
    params = {
        "area_code": "DE_LU",
        "data_type": "day_ahead_prices",
        "start_time": start.isoformat(),
        "end_time": (start + timedelta(days=1)).isoformat(),
    }

    finest = (await live_api.http.get("/api/v1/energy-data", params=params)).json()
    assert finest["series"]["resolution"] == "PT15M"
    assert finest["series"]["classification_sequence"] == 1
    assert {p["value"] for p in finest["points"]} == {50.0}
    assert len(finest["other_series"]) == 2

    hourly = await live_api.http.get(
        "/api/v1/energy-data", params={**params, "resolution": "PT60M"}
    )
    assert hourly.json()["count"] == 24
    second = await live_api.http.get(
        "/api/v1/energy-data", params={**params, "classification_sequence": 2}
    )
    assert {p["value"] for p in second.json()["points"]} == {60.0}


async def test_latest(live_api: LiveApi) -> None:
    missing = await live_api.http.get("/api/v1/energy-data/latest", params=WINDOW)
    assert missing.status_code == 404
    assert "no actual_load stored for DE_LU" in missing.json()["detail"]
    await seed(live_api.container, series(DST_END, 10))
    answer = await live_api.http.get("/api/v1/energy-data/latest", params=WINDOW)
    assert answer.status_code == 200
    body = answer.json()
    assert body["timestamp"] == "2025-10-26T00:15:00+00:00"
    assert body["value"] == 1009.0
    assert body["series"]["unit"] == "MAW"


async def test_latest_answers_are_reused_for_the_configured_seconds(sqlite_url: str) -> None:
    async with serve(api_settings(sqlite_url, api={"latest_cache_seconds": 0.5})) as api:
        await seed(api.container, series(DST_END, 1))
        first = (await api.http.get("/api/v1/energy-data/latest", params=WINDOW)).json()
        await seed(api.container, series(DST_END, 2))
        again = (await api.http.get("/api/v1/energy-data/latest", params=WINDOW)).json()
        assert again["timestamp"] == first["timestamp"] == "2025-10-25T22:00:00+00:00"
        await asyncio.sleep(0.6)
        fresh = (await api.http.get("/api/v1/energy-data/latest", params=WINDOW)).json()
        assert fresh["timestamp"] == "2025-10-25T22:15:00+00:00"


async def test_concurrent_latest_requests_share_one_query(sqlite_url: str) -> None:
    async with serve(api_settings(sqlite_url, api={"latest_cache_seconds": 30})) as api:
        await seed(api.container, series(DST_END, 4))
        statements: list[str] = []
        event.listen(
            api.container.engine.sync_engine,
            "before_cursor_execute",
            lambda _c, _cur, statement, *_: statements.append(statement),
        )
        answers = await asyncio.gather(
            *(api.http.get("/api/v1/energy-data/latest", params=WINDOW) for _ in range(50))
        )
        assert {a.json()["value"] for a in answers} == {1003.0}
        assert len([s for s in statements if "FROM series" in s]) == 1


async def test_daily_aggregates_follow_the_local_calendar_across_dst(live_api: LiveApi) -> None:
    # 2025-10-25 00:00 CEST … 2025-10-28 00:00 CET: 96 + 100 + 96 quarter-hours.
    start = datetime(2025, 10, 24, 22, tzinfo=UTC)
    await seed(live_api.container, series(start, 96 + 100 + 96, value=lambda i: float(i)))
    answer = await live_api.http.get(
        "/api/v1/energy-data/aggregated",
        params={
            **WINDOW,
            "interval": "day",
            "start_time": "2025-10-24T22:00:00Z",
            "end_time": "2025-10-27T23:00:00Z",
        },
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["time_zone"] == "Europe/Berlin"
    buckets = body["buckets"]
    assert [b["count"] for b in buckets] == [96, 100, 96]
    assert buckets[1]["start"] == "2025-10-25T22:00:00+00:00"
    assert buckets[1]["end"] == "2025-10-26T23:00:00+00:00"
    assert buckets[1]["min"] == 96.0
    assert buckets[1]["max"] == 195.0
    assert buckets[1]["mean"] == sum(range(96, 196)) / 100

    hourly = await live_api.http.get(
        "/api/v1/energy-data/aggregated",
        params={
            **WINDOW,
            "interval": "hour",
            "start_time": "2025-10-26T00:00:00Z",
            "end_time": "2025-10-26T02:00:00Z",
        },
    )
    assert [b["count"] for b in hourly.json()["buckets"]] == [4, 4]
    monthly = await live_api.http.get(
        "/api/v1/energy-data/aggregated",
        params={
            **WINDOW,
            "interval": "month",
            "start_time": "2025-09-30T22:00:00Z",
            "end_time": "2025-11-30T23:00:00Z",
        },
    )
    assert [(b["start"], b["count"]) for b in monthly.json()["buckets"]] == [
        ("2025-09-30T22:00:00+00:00", 292)
    ]


async def test_bad_input_is_a_4xx_that_says_what_is_wrong(live_api: LiveApi) -> None:
    get = live_api.http.get
    answer = await get(
        "/api/v1/energy-data", params={"area_code": "DE_LUX", "data_type": "actual_load"}
    )
    assert answer.status_code == 400
    assert "DE_LU" in answer.json()["detail"]
    answer = await get("/api/v1/energy-data", params={"area_code": "FR", "data_type": "load"})
    assert answer.status_code == 400
    assert "actual_load" in answer.json()["detail"]
    answer = await get(
        "/api/v1/energy-data",
        params={**WINDOW, "start_time": "2025-01-02", "end_time": "2025-01-01"},
    )
    assert answer.status_code == 400
    assert "must be before" in answer.json()["detail"]
    answer = await get("/api/v1/energy-data", params={**WINDOW, "start_time": "yesterday"})
    assert answer.status_code == 422
    assert "start_time" in answer.text
    answer = await get("/api/v1/energy-data", params={**WINDOW, "cursor": "garbage!"})
    assert answer.status_code == 400
    assert "invalid cursor" in answer.json()["detail"]
    answer = await get(
        "/api/v1/energy-data", params={**WINDOW, "start_time": "0001-01-01T00:00:00+14:00"}
    )
    assert answer.status_code == 400
