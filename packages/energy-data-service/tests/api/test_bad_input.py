"""Hostile input to the routes beside the data API: each answer is a 4xx that says what is wrong.

Each case here answered 500 (or was accepted and broke a background job) before the bounds
existed; the message must name the parameter so the caller knows what to change.
"""

from __future__ import annotations

import pytest
from energy_data_service.settings import Settings

from .conftest import LiveApi, serve

HUGE_ID = "9223372036854775808"


@pytest.mark.parametrize("path", [f"/api/v1/alerts/{HUGE_ID}", "/api/v1/alerts/2147483648"])
async def test_an_alert_id_beyond_any_row_is_not_found(live_api: LiveApi, path: str) -> None:
    answer = await live_api.http.get(path)
    assert answer.status_code == 404, answer.text
    acknowledged = await live_api.http.post(f"{path}/acknowledge", json={})
    assert acknowledged.status_code == 404, acknowledged.text


@pytest.mark.parametrize("route", ["summary", "success-rates", "latency"])
@pytest.mark.parametrize(
    "start", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00+05:00", "1800-01-01T00:00Z"]
)
async def test_monitoring_times_outside_the_calendar_are_refused(
    live_api: LiveApi, route: str, start: str
) -> None:
    answer = await live_api.http.get(f"/api/v1/monitoring/{route}", params={"start_time": start})
    assert answer.status_code == 400, answer.text
    assert "start_time" in answer.json()["detail"]
    assert "1900" in answer.json()["detail"]


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1850-06-01"])
async def test_a_quality_report_day_outside_the_calendar_is_refused(
    live_api: LiveApi, day: str
) -> None:
    answer = await live_api.http.get("/api/v1/quality/report", params={"date": day})
    assert answer.status_code == 400, answer.text
    assert "date" in answer.json()["detail"]


async def test_quality_scores_far_dates_are_refused(live_api: LiveApi) -> None:
    answer = await live_api.http.get(
        "/api/v1/quality/scores", params={"start_date": "0001-01-01", "end_date": "0001-01-03"}
    )
    assert answer.status_code == 400, answer.text


BODY = {"areas": ["DE_LU"], "data_types": ["actual_load"]}


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("NaN", "2026-01-01", "start"),
        ("0001-01-01", "2026-01-01", "1900"),
        ("2026-01-01", "9999-01-01", "1900"),
        ("2026-01-01T00:00-05:00", "9999-12-31T23:59:59-05:00", "1900"),
    ],
)
async def test_backfill_dates_outside_the_data_bounds_are_refused(
    settings: Settings, start: str, end: str, expected: str
) -> None:
    settings.scheduler.enabled = False
    async with serve(settings) as api:
        raw = (
            '{"areas": ["DE_LU"], "data_types": ["actual_load"], '
            f'"start": {start if start == "NaN" else repr(start).replace(chr(39), chr(34))}, '
            f'"end": "{end}"}}'
        )
        answer = await api.http.post(
            "/api/v1/backfill", content=raw, headers={"content-type": "application/json"}
        )
        assert answer.status_code in (400, 422), answer.text
        assert expected in answer.text
        assert (await api.http.get("/api/v1/backfill")).json() == []


async def test_a_backfill_longer_than_the_maximum_span_is_refused(settings: Settings) -> None:
    settings.backfill.max_span_days = 400
    settings.scheduler.enabled = False
    async with serve(settings) as api:
        answer = await api.http.post(
            "/api/v1/backfill", json={**BODY, "start": "2020-01-01", "end": "2022-01-01"}
        )
        assert answer.status_code == 400, answer.text
        assert "400 days" in answer.json()["detail"]
        assert "BACKFILL__MAX_SPAN_DAYS" in answer.json()["detail"]


async def test_a_backfill_planning_more_chunks_than_allowed_is_refused(settings: Settings) -> None:
    settings.backfill.max_chunks = 30
    settings.scheduler.enabled = False
    async with serve(settings) as api:
        answer = await api.http.post(
            "/api/v1/backfill",
            json={
                "areas": ["DE_LU", "FR"],
                "data_types": ["actual_load"],
                "start": "2024-01-01",
                "end": "2025-06-01",
            },
        )
        assert answer.status_code == 400, answer.text
        detail = answer.json()["detail"]
        assert "34 chunks" in detail, detail  # 17 months from the UTC start, per area
        assert "at most 30" in detail, detail
        assert (await api.http.get("/api/v1/backfill")).json() == []


@pytest.mark.parametrize("depth", [256, 100_000])
async def test_a_deeply_nested_body_is_a_client_error(live_api: LiveApi, depth: int) -> None:
    body = '{"by": ' + "[" * depth + "]" * depth + "}"
    answer = await live_api.http.post(
        "/api/v1/alerts/1/acknowledge", content=body, headers={"content-type": "application/json"}
    )
    assert 400 <= answer.status_code < 500, answer.text
