"""``AlertService``: turns what monitoring sees into alerts, and alerts into notices.

An evaluation computes every rule's firing conditions (``alerts.rules``), opens an alert for
each new rule × subject (one active alert per pair: deduplication), resolves active alerts whose
condition cleared, then delivers what is still undelivered: the opening notice of each alert and
the recovery notice of each resolved one, through every configured channel.

Evaluations run after every recorded collection run (``on_run_recorded``, in the background so
collection never waits for a slow SMTP server) and on the scheduler's interval. Delivery is
bounded three ways: each channel retries with backoff inside one attempt; an undelivered notice
is tried again on the next evaluations, at most ``DELIVERY_PASSES`` times; and each channel sends
at most ``channel_max_per_hour`` notices, the rest waiting for room. Every attempt's outcome is
kept in ``alert_deliveries``. Nothing here ever raises into collection.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog

from energy_data_service.alerts import rules
from energy_data_service.alerts.notice import Channel, Notice, NoticeKind
from energy_data_service.alerts.rules import Condition, ScoreSnapshot
from energy_data_service.alerts.settings import RULE_NAMES, AlertSettings
from energy_data_service.domain import area_label
from energy_data_service.errors import TermOverError
from energy_data_service.monitoring.metrics import ServiceMetrics
from energy_data_service.repositories.alerts import Alert, AlertRepository, Delivery
from energy_data_service.repositories.monitoring import MonitoringRepository
from energy_data_service.repositories.quality import QualityRepository
from energy_data_service.repositories.runs import CollectionRun
from energy_data_service.services.run_monitoring import MonitoringService

log = structlog.get_logger(__name__)

DELIVERY_PASSES = 3
"""Evaluations that try an undelivered notice before it is given up (each with its retries)."""
NOTICE_HORIZON = timedelta(days=1)
"""Alerts older than this (resolved before it) get no late notices, e.g. after adding a channel."""


@dataclass(frozen=True)
class Evaluation:
    """What one evaluation changed."""

    firing: list[Condition]
    opened: list[int]
    resolved: list[int]
    deliveries: Counter[str]


class AlertService:
    """Evaluates the alert rules, keeps the alert history and notifies through the channels."""

    def __init__(
        self,
        *,
        alerts: AlertRepository,
        monitoring: MonitoringService,
        monitoring_reads: MonitoringRepository,
        quality: QualityRepository,
        settings: AlertSettings,
        channels: Sequence[Channel],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        metrics: ServiceMetrics | None = None,
    ) -> None:
        self._metrics = metrics or ServiceMetrics()
        self._alerts = alerts
        self._monitoring = monitoring
        self._reads = monitoring_reads
        self._quality = quality
        self._settings = settings
        self._channels = list(channels)
        self._clock = clock
        self._lock = asyncio.Lock()
        self._background: set[asyncio.Task[None]] = set()
        self._queued = False

    @property
    def channel_names(self) -> list[str]:
        """Configured channels, for status pages."""
        return [channel.name for channel in self._channels]

    # -- triggers ----------------------------------------------------------------------------

    async def on_run_recorded(self, run: CollectionRun) -> None:
        """Hook for the run-recording path: count the run, evaluate in the background.

        Runs recorded while an evaluation is already waiting share that evaluation, so a gap
        fill over twenty series triggers one or two evaluations, not twenty.
        """
        try:
            self._monitoring.count_run(run)
        except Exception:
            log.exception("alerts.count_run_failed")
        if self._queued:
            return
        self._queued = True
        task = asyncio.create_task(self._evaluate_queued(), name="alert-evaluation")
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def drain(self, within_seconds: float = 15.0) -> None:
        """Wait (bounded) for evaluations started by runs, e.g. before the process exits.

        A notice still undelivered when a short-lived command exits is picked up by the next
        evaluation of the running service (undelivered notices stay pending).
        """
        if self._background:
            await asyncio.wait(set(self._background), timeout=within_seconds)

    async def _evaluate_queued(self) -> None:
        try:
            async with self._lock:
                self._queued = False
                await self._evaluate_locked()
        except TermOverError as error:  # queued by a job of a term that ended since
            log.info("alerts.evaluation_skipped", reason=str(error))
        except Exception:
            log.exception("alerts.evaluation_failed")

    # -- evaluation --------------------------------------------------------------------------

    async def conditions(self) -> list[Condition]:
        """Every enabled rule's firing conditions right now."""
        enabled = set(self._settings.rules)
        found: list[Condition] = []
        if enabled & {"consecutive_failures", "invalid_token"}:
            latest = await self._reads.latest_runs(max(self._settings.consecutive_failures, 1))
            labelled = [
                [
                    rules.RunOutcome(
                        area=area_label(run.area),
                        data_type=run.data_type,
                        finished_at=run.finished_at,
                        success=run.success,
                        error_class=run.error_class,
                        error_text=run.error_text,
                    )
                    for run in runs
                ]
                for runs in latest
            ]
            if "consecutive_failures" in enabled:
                found += rules.consecutive_failures(labelled, self._settings.consecutive_failures)
            if "invalid_token" in enabled:
                found += rules.invalid_token(labelled)
        if "success_rate" in enabled:
            now = self._clock()
            window = timedelta(minutes=self._settings.success_rate_window_minutes)
            rates = await self._monitoring.success_rates(now - window, now + timedelta(seconds=1))
            found += rules.low_success_rate(
                rates,
                self._settings.success_rate_percent,
                self._settings.success_rate_min_runs,
                self._settings.success_rate_window_minutes,
            )
        if "stale_series" in enabled:
            found += rules.stale_series(await self._monitoring.staleness())
        if "quality_score" in enabled:
            snapshots = [
                ScoreSnapshot(
                    area=area_label(s.area_code),
                    data_type=s.data_type,
                    resolution=s.resolution,
                    day=s.day.isoformat(),
                    score=s.score,
                )
                for s in await self._quality.latest()
            ]
            found += rules.low_quality(snapshots, self._settings.quality_score_min)
        return found

    async def evaluate(self) -> Evaluation:
        """Open, resolve and notify; one evaluation at a time in this process."""
        async with self._lock:
            return await self._evaluate_locked()

    async def _evaluate_locked(self) -> Evaluation:
        now = self._clock()
        firing = await self.conditions()
        keys = {(c.rule, c.subject) for c in firing}
        active = await self._alerts.active()
        active_keys = {(a.rule, a.subject) for a in active}
        opened = []
        for condition in firing:
            if (condition.rule, condition.subject) in active_keys:
                continue
            alert, created = await self._alerts.open(condition, now)
            if created:
                opened.append(alert.id)
                log.warning("alert.opened", rule=alert.rule, subject=alert.subject)
        resolved = []
        for alert in active:
            if (alert.rule, alert.subject) not in keys:
                await self._alerts.resolve(alert.id, now)
                resolved.append(alert.id)
                log.info("alert.resolved", rule=alert.rule, subject=alert.subject)
        still_active = Counter(rule for rule, _ in keys)
        for rule in RULE_NAMES:
            self._metrics.alerts_active.labels(rule).set(still_active.get(rule, 0))
        deliveries = await self._deliver_pending(now)
        return Evaluation(firing, opened, resolved, deliveries)

    # -- delivery ----------------------------------------------------------------------------

    async def _deliver_pending(self, now: datetime) -> Counter[str]:
        outcomes: Counter[str] = Counter()
        if not self._channels:
            return outcomes
        recent = await self._alerts.listing(limit=500, since=now - NOTICE_HORIZON)
        budget = {
            channel.name: self._settings.channel_max_per_hour
            - await self._alerts.sent_since(channel.name, now - timedelta(hours=1))
            for channel in self._channels
        }
        for alert in sorted(recent, key=lambda a: a.id):
            kinds: list[NoticeKind] = ["opened"]
            if alert.resolved_at is not None:
                kinds.append("resolved")
            for kind in kinds:
                for channel in self._channels:
                    outcome = await self._deliver(alert, kind, channel, budget, now)
                    if outcome is not None:
                        outcomes[outcome] += 1
        return outcomes

    async def _deliver(
        self,
        alert: Alert,
        kind: NoticeKind,
        channel: Channel,
        budget: dict[str, int],
        now: datetime,
    ) -> str | None:
        history = [d for d in alert.deliveries if d.notice == kind and d.channel == channel.name]
        if any(d.outcome == "delivered" for d in history):
            return None
        if sum(d.outcome == "failed" for d in history) >= DELIVERY_PASSES:
            return None
        if budget[channel.name] <= 0:
            if not history or history[-1].outcome != "rate_limited":
                await self._record(alert.id, kind, channel.name, now, "rate_limited", None, None)
                return "rate_limited"
            return None
        budget[channel.name] -= 1
        notice = Notice(
            kind=kind,
            alert_id=alert.id,
            rule=alert.rule,
            subject=alert.subject,
            message=alert.message,
            details=alert.details,
            opened_at=alert.opened_at,
            resolved_at=alert.resolved_at,
        )
        await self._alerts.ensure_term_current()  # a deposed leader's job sends nothing
        started = time.perf_counter()
        try:
            await channel.send(notice)
        except Exception as error:
            elapsed = (time.perf_counter() - started) * 1000
            text = f"{type(error).__name__}: {error}"[:500]
            log.warning("alert.delivery_failed", channel=channel.name, alert=alert.id, error=text)
            await self._record(alert.id, kind, channel.name, self._clock(), "failed", elapsed, text)
            return "failed"
        elapsed = (time.perf_counter() - started) * 1000
        delivered_at = self._clock()
        await self._record(alert.id, kind, channel.name, delivered_at, "delivered", elapsed, None)
        await self._alerts.mark_notified(alert.id, kind, delivered_at)
        return "delivered"

    async def _record(
        self,
        alert_id: int,
        kind: NoticeKind,
        channel: str,
        at: datetime,
        outcome: str,
        duration_ms: float | None,
        error: str | None,
    ) -> None:
        self._metrics.alert_deliveries.labels(channel, outcome).inc()
        await self._alerts.record_delivery(
            alert_id,
            Delivery(
                notice=kind,
                channel=channel,
                attempted_at=at,
                outcome=outcome,
                duration_ms=duration_ms,
                error=error,
            ),
        )

    # -- API ---------------------------------------------------------------------------------

    async def listing(self, state: str | None, limit: int) -> list[Alert]:
        """Alerts newest first, optionally one state only."""
        return await self._alerts.listing(state=state, limit=limit)

    async def get(self, alert_id: int) -> Alert:
        """One alert; raises ``AlertNotFoundError`` for an unknown id."""
        return await self._alerts.get(alert_id)

    async def acknowledge(self, alert_id: int, by: str | None) -> Alert:
        """Someone owns the problem now; raises ``AlertNotFoundError`` for an unknown id."""
        return await self._alerts.acknowledge(alert_id, self._clock(), by)
