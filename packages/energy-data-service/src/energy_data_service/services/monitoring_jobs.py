"""The scheduler's monitoring jobs: alert evaluation every minute, the daily quality report.

The evaluation also runs after every collection run; the periodic one catches what no run
reports (a series going stale because nothing ran, a channel that recovered). The daily job
scores yesterday, stores the scores (the quality alert rule reads them) and re-fetches the gaps
it found when the platform is reachable.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import structlog

from energy_data_service.errors import MissingTokenError
from energy_data_service.services.scheduler import ScheduledJob

if TYPE_CHECKING:
    from energy_data_service.alerts.settings import AlertSettings
    from energy_data_service.quality.settings import QualitySettings
    from energy_data_service.services.alerting import AlertService
    from energy_data_service.services.quality_reports import DataQualityService

log = structlog.get_logger(__name__)


def monitoring_jobs(
    alerts: AlertSettings,
    quality: QualitySettings,
    alert_service: AlertService,
    quality_service: DataQualityService,
) -> list[ScheduledJob]:
    """Alert evaluation and the daily quality report, timed by ``ALERTS__`` / ``QUALITY__``."""

    async def evaluate_alerts() -> int:
        await alert_service.evaluate()
        return 0

    async def daily_quality() -> int:
        service = quality_service
        report = await service.report(service.yesterday())
        try:
            fixed = await service.remediate(report)
        except MissingTokenError:
            log.info("quality.remediation_skipped", reason="no ENTSOE__API_TOKEN")
            return 0
        return sum(r.points for r in fixed)

    return [
        ScheduledJob(
            "alert_evaluation",
            "Alert rules evaluated; open, resolve and notify",
            evaluate_alerts,
            every=timedelta(seconds=alerts.evaluation_interval_seconds),
        ),
        ScheduledJob(
            "quality_report",
            "Yesterday's quality scored per series; its gaps re-fetched",
            daily_quality,
            daily_at_utc=((quality.report_hour_utc, 15),),
        ),
    ]
