"""The scheduler's monitoring jobs, run as the scheduler runs them (on a real database)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from energy_data_service.container import Container
from energy_data_service.domain import EnergyPoint
from energy_data_service.quality.days import local_day_bounds
from energy_data_service.services.monitoring_jobs import monitoring_jobs
from entsoe_client.testing import FakePlatform

from .conftest import monitored_settings
from .receivers import SmtpServer, WebhookReceiver

BERLIN = ZoneInfo("Europe/Berlin")
DE_LU = "10Y1001A1001A82H"


async def test_periodic_evaluation_notifies_a_stale_series_and_the_daily_report_stores_scores(
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
        rules=["stale_series"],
        evaluation_interval_seconds=30,
    )
    async with Container(settings) as container:
        jobs = {
            job.id: job
            for job in monitoring_jobs(
                settings.alerts,
                settings.quality,
                container.alert_service,
                container.quality_service,
            )
        }
        assert jobs["alert_evaluation"].every == timedelta(seconds=30)
        assert jobs["quality_report"].daily_at_utc == ((3, 15),)
        scheduled = {job.id for job in await container.scheduler.status()}
        assert {"alert_evaluation", "quality_report"} <= scheduled

        # Nothing was ever collected: the periodic evaluation finds the series stale.
        assert await jobs["alert_evaluation"].run() == 0
        assert webhook.events() == [("alert.opened", "DE_LU/actual_load")]
        assert "no data stored" in str(smtp_server.mailbox.messages[0][2].get_payload())

        # The daily job scores yesterday, stores the scores and re-fetches the gaps.
        fake_platform.resolution = "PT15M"
        yesterday = container.quality_service.yesterday()
        start, end = local_day_bounds(yesterday, BERLIN)
        quarter = timedelta(minutes=15)
        count = int((end - start) / quarter)
        hole = range(10, 14)
        await container.points.upsert(
            [
                EnergyPoint(
                    DE_LU,
                    "actual_load",
                    "A16",
                    "PT15M",
                    0,
                    start + i * quarter,
                    40_000.0 + i,
                    "MAW",
                    "A01",
                    "doc",
                    1,
                    start,
                    start,
                )
                for i in range(count)
                if i not in hole
            ]
        )
        assert await jobs["quality_report"].run() == len(hole)
        [score] = await container.quality_service.scores(yesterday, yesterday)
        assert (score.expected, score.missing) == (count, len(hole))
        asked = {r.period for r in fake_platform.requests}
        assert asked == {(start + hole.start * quarter, start + hole.stop * quarter)}
