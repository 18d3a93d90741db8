"""Alert rules and publication lags on plain values; the channel rate limit on a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from energy_data_service.alerts import rules
from energy_data_service.alerts.rules import RunOutcome, ScoreSnapshot, Staleness, SuccessRate
from energy_data_service.container import Container
from energy_data_service.monitoring.publication import PUBLICATION_LAGS
from energy_data_service.repositories.runs import CollectionRun
from entsoe_client.testing import FakePlatform

from .conftest import monitored_settings
from .receivers import SmtpServer, WebhookReceiver

BERLIN = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 1, 5, 10, tzinfo=UTC)


def outcome(minutes: int, success: bool, error: str | None = None, area: str = "DE_LU"):
    return RunOutcome(area, "actual_load", T0 + timedelta(minutes=minutes), success, error, None)


def test_consecutive_failures_need_the_whole_streak():
    failing = [outcome(3, False, "ServerError"), outcome(2, False), outcome(1, False)]
    [condition] = rules.consecutive_failures([failing], threshold=3)
    assert (condition.rule, condition.subject) == ("consecutive_failures", "DE_LU/actual_load")
    assert "ServerError" in condition.message
    assert rules.consecutive_failures([failing[:2]], threshold=3) == []
    recovered = [outcome(4, True), *failing]
    assert rules.consecutive_failures([recovered], threshold=3) == []


def test_invalid_token_looks_at_the_newest_run_of_any_series():
    fr = [outcome(5, False, "AuthenticationError", area="FR")]
    de = [outcome(1, True)]
    [condition] = rules.invalid_token([de, fr])
    assert condition.subject == rules.TOKEN_SUBJECT
    assert rules.invalid_token([[outcome(6, True)], fr]) == []


def test_success_rate_needs_enough_runs():
    rates = [SuccessRate("DE_LU", "actual_load", 10, 8), SuccessRate("FR", "actual_load", 3, 0)]
    [condition] = rules.low_success_rate(rates, min_percent=90, min_runs=4, window_minutes=360)
    assert condition.subject == "DE_LU/actual_load"
    assert condition.details["percent"] == 80.0
    assert rules.low_success_rate(rates, min_percent=80, min_runs=4, window_minutes=360) == []


def test_stale_and_quality_rules():
    behind = Staleness("DE_LU", "actual_load", T0, T0 + timedelta(minutes=30), 1800.0)
    fresh = Staleness("FR", "actual_load", T0, T0 - timedelta(minutes=5), -300.0)
    never = Staleness("NL", "actual_load", None, T0, None)
    found = rules.stale_series([behind, fresh, never])
    assert [c.subject for c in found] == ["DE_LU/actual_load", "NL/actual_load"]
    assert "30 min behind" in found[0].message
    assert "no data stored" in found[1].message
    scores = [
        ScoreSnapshot("DE_LU", "actual_load", "PT15M", "2026-01-04", 79.9),
        ScoreSnapshot("FR", "actual_load", "PT15M", "2026-01-04", 80.0),
    ]
    [low] = rules.low_quality(scores, min_score=80)
    assert low.subject == "DE_LU/actual_load/PT15M"


def test_publication_lags():
    winter_morning = datetime(2026, 1, 5, 10, tzinfo=UTC)
    winter_afternoon = datetime(2026, 1, 5, 14, tzinfo=UTC)
    assert PUBLICATION_LAGS["actual_load"].expected_end(winter_morning, BERLIN) == datetime(
        2026, 1, 5, 8, tzinfo=UTC
    )
    prices = PUBLICATION_LAGS["day_ahead_prices"]
    # Before 13:00 UTC only today is due (Berlin midnight = 23:00 UTC); after, tomorrow too.
    assert prices.expected_end(winter_morning, BERLIN) == datetime(2026, 1, 5, 23, tzinfo=UTC)
    assert prices.expected_end(winter_afternoon, BERLIN) == datetime(2026, 1, 6, 23, tzinfo=UTC)
    # Across the autumn switch: tomorrow (2026-10-25) ends at 23:00 UTC, not 22:00.
    before_switch = datetime(2026, 10, 24, 14, tzinfo=UTC)
    assert prices.expected_end(before_switch, BERLIN) == datetime(2026, 10, 25, 23, tzinfo=UTC)
    assert PUBLICATION_LAGS["week_ahead_forecast"].expected_end(winter_morning, BERLIN) == (
        datetime(2026, 1, 5, 23, tzinfo=UTC)
    )
    assert set(PUBLICATION_LAGS) >= {"actual_load", "day_ahead_prices", "forecast_margin"}


async def test_each_channel_sends_at_most_its_hourly_limit(
    database_url: str,
    fake_platform: FakePlatform,
    webhook: WebhookReceiver,
    smtp_server: SmtpServer,
):
    settings = monitored_settings(
        database_url,
        fake_platform,
        webhook,
        smtp_server,
        consecutive_failures=1,
        channel_max_per_hour=1,
    )
    async with Container(settings) as container:
        now = datetime.now(UTC)
        for data_type in ("actual_load", "day_ahead_prices"):
            await container.runs.record(
                CollectionRun(
                    run_kind="scheduled",
                    area_code="10Y1001A1001A82H",
                    data_type=data_type,
                    window_start=None,
                    window_end=None,
                    started_at=now,
                    finished_at=now,
                    points=0,
                    success=False,
                    error_class="ServerError",
                    error_text="503",
                )
            )
        await container.alert_service.drain()
        await container.alert_service.evaluate()
        alerts = await container.alert_service.listing(state="open", limit=10)
        assert len(alerts) == 2
        outcomes = sorted((d.channel, d.outcome) for a in alerts for d in a.deliveries)
        assert outcomes == [
            ("email", "delivered"),
            ("email", "rate_limited"),
            ("webhook", "delivered"),
            ("webhook", "rate_limited"),
        ]
        assert len(webhook.deliveries) == 1
        assert len(smtp_server.mailbox.messages) == 1
