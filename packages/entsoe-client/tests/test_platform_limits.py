"""The platform's month limit as it states it, the overlap rule, and the stand-in's real shapes."""

from __future__ import annotations

from calendar import monthrange
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from entsoe_client import (
    Acknowledgement,
    AcknowledgementError,
    MarketDocument,
    Query,
    RequestTooLargeError,
    Span,
)
from entsoe_client._client import _refusal
from entsoe_client._splitting import span_of_period
from entsoe_client.testing import FakePlatform, calendar_value_at, value_at

from .conftest import ClientFactory

BRUSSELS = ZoneInfo("Europe/Brussels")
P1M_REFUSAL = (
    "Provided time interval (2022-02-28T23:00:00Z - 2022-05-30T22:00:00Z) is larger than "
    "maximum allowed period 'P1M' for 'ACTUAL_TOTAL_LOAD_R3:XML' export."
)


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=BRUSSELS).astimezone(UTC)


def one_month_after(moment: datetime) -> datetime:
    """Plain calendar arithmetic, the platform's way: same day next month, clamped."""
    year, month = (moment.year, moment.month + 1) if moment.month < 12 else (moment.year + 1, 1)
    return moment.replace(year=year, month=month, day=min(moment.day, monthrange(year, month)[1]))


@pytest.mark.parametrize(
    ("text", "period"),
    [
        (P1M_REFUSAL, "P1M"),
        ("The amount of requested data exceeds allowed limit.", None),
        ("The number of instances (149) exceeds the allowed maximum (100).", None),
        (
            "Requested interval is larger than maximum allowed period 'P1Y' for 'X:XML' export",
            "P1Y",
        ),
    ],
)
def test_every_too_large_wording_is_recognised(text: str, period: str | None) -> None:
    error = _refusal(Acknowledgement("a", None, "999", text), 400)
    assert isinstance(error, RequestTooLargeError)
    assert error.allowed_period == period


def test_other_refusals_stay_acknowledgement_errors() -> None:
    error = _refusal(Acknowledgement("a", None, "999", "Unknown area 10YXX"), 400)
    assert type(error) is AcknowledgementError


def test_named_periods_become_spans() -> None:
    assert span_of_period("P1M") == Span(months=1)
    assert span_of_period("P1Y") == Span(months=12)
    assert span_of_period("P7D") == Span(days=7)
    assert span_of_period("PT15M") is None


def test_the_stand_in_refuses_a_brussels_may_in_one_piece() -> None:
    platform = FakePlatform()
    base = {"documentType": "A65", "processType": "A16", "outBiddingZone_Domain": "10YBE-----2"}
    refused = platform.answer(
        "/api",
        {
            **base,
            "securityToken": "test-token",
            "periodStart": "202504302200",
            "periodEnd": "202505312200",
        },
    )
    assert refused.status == 400
    assert refused.content is not None
    assert b"larger than maximum allowed period 'P1M' for 'ACTUAL_TOTAL_LOAD_R3:XML'" in (
        refused.content
    )
    assert b"2025-04-30T22:00:00Z - 2025-05-31T22:00:00Z" in refused.content
    accepted = platform.answer(
        "/api",
        {
            **base,
            "securityToken": "test-token",
            "periodStart": "202504302200",
            "periodEnd": "202505302200",
        },
    )
    assert accepted.status == 200


def test_month_chunks_end_at_most_one_calendar_month_after_their_utc_start() -> None:
    start, end = local_midnight(date(2025, 1, 1)), local_midnight(date(2026, 1, 1))
    chunks = Query.build("actual_load", "BE", start, end).chunks()
    assert len(chunks) == 13
    assert chunks[0][0] == start
    assert chunks[-1][1] == end
    assert all(b == c for (_, b), (c, _) in pairwise(chunks))
    assert all(chunk_end <= one_month_after(chunk_start) for chunk_start, chunk_end in chunks)


async def test_a_year_of_load_takes_at_most_13_requests_and_loses_nothing(
    platform: FakePlatform, make_client: ClientFactory
) -> None:
    start, end = local_midnight(date(2025, 1, 1)), local_midnight(date(2026, 1, 1))
    documents = await make_client().fetch(Query.build("actual_load", "DE_LU", start, end))
    points = [p for d in documents for s in d.series for p in s.points]
    assert len(platform.requests) <= 13
    assert all(r.status == 200 for r in platform.requests)
    hours = (end - start) // timedelta(hours=1)
    assert [p.start for p in points] == [start + timedelta(hours=k) for k in range(hours)]
    assert all(p.value == value_at(p.start) for p in points)


async def test_a_refusal_naming_p1m_replans_the_range_by_months(
    platform: FakePlatform, make_client: ClientFactory
) -> None:
    """The client plans the year-ahead forecast by years; a platform that limits it to a month
    says so, and the client re-plans with that period instead of halving blindly."""
    platform.limits[("A65", "A33")] = (1, "YEAR_AHEAD_TOTAL_LOAD_FORECAST_R3")
    start, end = local_midnight(date(2025, 1, 6)), local_midnight(date(2026, 1, 5))
    documents = await make_client().fetch(Query.build("year_ahead_forecast", "BE", start, end))
    refused = [r for r in platform.requests if r.status != 200]
    accepted = [r for r in platform.requests if r.status == 200]
    assert len(refused) == 1
    assert len(accepted) <= 13
    assert all(b <= one_month_after(a) for a, b in (r.period for r in accepted))
    weeks = {(s.business_type, p.start) for d in documents for s in d.series for p in s.points}
    expected = [local_midnight(date(2025, 1, 6) + timedelta(weeks=k)) for k in range(52)]
    assert weeks == {(b, w) for b in ("A60", "A61") for w in expected}


async def test_a_yearly_point_belongs_to_a_month_it_covers(
    platform: FakePlatform, make_client: ClientFactory
) -> None:
    start, end = local_midnight(date(2024, 3, 1)), local_midnight(date(2024, 4, 1))
    documents = await make_client().fetch(Query.build("forecast_margin", "DE_LU", start, end))
    ((series,),) = [d.series for d in documents]
    ((point_start, point_end, business_type),) = [
        (p.start, p.end, series.business_type) for p in series.points
    ]
    assert (point_start, point_end) == (
        local_midnight(date(2024, 1, 1)),
        local_midnight(date(2025, 1, 1)),
    )
    assert business_type == "A91"
    assert series.resolution == "P1Y"


async def test_week_ahead_is_daily_minimum_and_maximum_in_monday_weeks(
    platform: FakePlatform, make_client: ClientFactory
) -> None:
    # Wednesday to Wednesday across the spring switch: two whole Monday weeks, 23-hour day too.
    start, end = local_midnight(date(2024, 3, 27)), local_midnight(date(2024, 4, 3))
    documents = await make_client().fetch(Query.build("week_ahead_forecast", "BE", start, end))
    by_type: dict[str | None, list[tuple[datetime, datetime, float]]] = {}
    for document in documents:
        assert isinstance(document, MarketDocument)
        for series in document.series:
            assert series.resolution == "P1D"
            by_type.setdefault(series.business_type, []).extend(
                (p.start, p.end, p.value) for p in series.points
            )
    assert set(by_type) == {"A60", "A61"}
    days = [local_midnight(date(2024, 3, 25) + timedelta(days=k)) for k in range(15)]
    for business_type, points in by_type.items():
        assert sorted(points) == [
            (a, b, calendar_value_at(a, business_type))
            for a, b in pairwise(days)
            if a < end and b > start
        ]
    assert timedelta(hours=23) in {b - a for a, b, _ in by_type["A60"]}


async def test_month_ahead_is_weekly_on_mondays(
    platform: FakePlatform, make_client: ClientFactory
) -> None:
    start, end = local_midnight(date(2024, 10, 1)), local_midnight(date(2024, 11, 1))
    documents = await make_client().fetch(Query.build("month_ahead_forecast", "BE", start, end))
    starts = sorted(
        {p.start for d in documents for s in d.series if s.business_type == "A60" for p in s.points}
    )
    mondays = [local_midnight(date(2024, 9, 30) + timedelta(weeks=k)) for k in range(5)]
    assert starts == mondays
    lengths = {p.end - p.start for d in documents for s in d.series for p in s.points}
    assert lengths == {timedelta(hours=168), timedelta(hours=169)}
