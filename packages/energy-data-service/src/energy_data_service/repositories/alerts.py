"""All SQL for ``alerts`` and ``alert_deliveries``.

At most one active (unresolved) alert exists per rule × subject: a partial unique index enforces
it, so two evaluations racing (after a run and on the schedule, or on two replicas) cannot open
the same alert twice; the loser gets the existing alert back. In a scheduled job every write
here is fenced by the leader's term (``leader_terms``): a deposed leader's evaluation opens,
resolves and records nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from energy_data_service.alerts.rules import Condition
from energy_data_service.db.monitoring_tables import alert_deliveries, alerts
from energy_data_service.errors import AlertNotFoundError
from energy_data_service.repositories.leader_terms import (
    ensure_job_term_current,
    fence_job_writes,
)

ALERT_STATES = ("open", "acknowledged", "resolved")


@dataclass(frozen=True)
class Delivery:
    """One attempt to deliver a notice through one channel."""

    notice: str
    channel: str
    attempted_at: datetime
    outcome: str
    duration_ms: float | None
    error: str | None


@dataclass(frozen=True)
class Alert:
    """An alert and its history."""

    id: int
    rule: str
    subject: str
    state: str
    message: str
    details: dict[str, Any]
    opened_at: datetime
    notified_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    recovery_notified_at: datetime | None
    deliveries: list[Delivery] = field(default_factory=list)


class AlertRepository:
    """Opens, resolves, acknowledges and lists alerts; records deliveries."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def ensure_term_current(self) -> None:
        """``TermOverError`` when this runs in a scheduled job whose leader's term is over."""
        async with self._engine.connect() as connection:
            await ensure_job_term_current(connection)

    async def active(self) -> list[Alert]:
        """Unresolved alerts (open or acknowledged)."""
        return await self._select(alerts.c.resolved_at.is_(None))

    async def open(self, condition: Condition, now: datetime) -> tuple[Alert, bool]:
        """The active alert for the condition's rule × subject, and whether it is new."""
        try:
            async with self._engine.begin() as connection:
                await fence_job_writes(connection)
                await connection.execute(
                    insert(alerts).values(
                        rule=condition.rule,
                        subject=condition.subject,
                        state="open",
                        message=condition.message,
                        details=condition.details,
                        opened_at=now,
                    )
                )
            created = True
        except IntegrityError:
            created = False
        [alert] = await self._select(
            alerts.c.rule == condition.rule,
            alerts.c.subject == condition.subject,
            alerts.c.resolved_at.is_(None),
        )
        return alert, created

    async def resolve(self, alert_id: int, now: datetime) -> None:
        """Mark an alert resolved (its condition cleared)."""
        async with self._engine.begin() as connection:
            await fence_job_writes(connection)
            await connection.execute(
                update(alerts)
                .where(alerts.c.id == alert_id, alerts.c.resolved_at.is_(None))
                .values(state="resolved", resolved_at=now)
            )

    async def acknowledge(self, alert_id: int, now: datetime, by: str | None) -> Alert:
        """Record that someone took ownership; a resolved alert stays resolved."""
        async with self._engine.begin() as connection:
            await fence_job_writes(connection)
            await connection.execute(
                update(alerts)
                .where(alerts.c.id == alert_id, alerts.c.acknowledged_at.is_(None))
                .values(acknowledged_at=now, acknowledged_by=by)
            )
            await connection.execute(
                update(alerts)
                .where(alerts.c.id == alert_id, alerts.c.state == "open")
                .values(state="acknowledged")
            )
        found = await self._select(alerts.c.id == alert_id)
        if not found:
            raise AlertNotFoundError(f"no alert with id {alert_id}")
        return found[0]

    async def get(self, alert_id: int) -> Alert:
        """One alert with its deliveries."""
        found = await self._select(alerts.c.id == alert_id)
        if not found:
            raise AlertNotFoundError(f"no alert with id {alert_id}")
        return found[0]

    async def listing(
        self, state: str | None = None, limit: int = 100, since: datetime | None = None
    ) -> list[Alert]:
        """Newest first, optionally one state only or opened/resolved after ``since``."""
        conditions: list[Any] = []
        if state is not None:
            conditions.append(alerts.c.state == state)
        if since is not None:
            conditions.append((alerts.c.resolved_at.is_(None)) | (alerts.c.resolved_at >= since))
        return await self._select(*conditions, limit=limit)

    async def mark_notified(self, alert_id: int, notice: str, now: datetime) -> None:
        """Set ``notified_at`` / ``recovery_notified_at`` on the first delivered notice."""
        column = "notified_at" if notice == "opened" else "recovery_notified_at"
        async with self._engine.begin() as connection:
            await fence_job_writes(connection)
            await connection.execute(
                update(alerts)
                .where(alerts.c.id == alert_id, alerts.c[column].is_(None))
                .values({column: now})
            )

    async def record_delivery(self, alert_id: int, delivery: Delivery) -> None:
        """Keep one delivery attempt's outcome."""
        async with self._engine.begin() as connection:
            await fence_job_writes(connection)
            await connection.execute(
                insert(alert_deliveries).values(
                    alert_id=alert_id,
                    notice=delivery.notice,
                    channel=delivery.channel,
                    attempted_at=delivery.attempted_at,
                    outcome=delivery.outcome,
                    duration_ms=delivery.duration_ms,
                    error=delivery.error,
                )
            )

    async def sent_since(self, channel: str, since: datetime) -> int:
        """Notices the channel tried to send (delivered or failed) since ``since``."""
        d = alert_deliveries.c
        query = (
            select(func.count())
            .select_from(alert_deliveries)
            .where(d.channel == channel, d.attempted_at >= since, d.outcome != "rate_limited")
        )
        async with self._engine.connect() as connection:
            return int(await connection.scalar(query) or 0)

    async def _select(self, *conditions: Any, limit: int | None = None) -> list[Alert]:
        query = select(alerts).where(*conditions).order_by(alerts.c.id.desc())
        if limit is not None:
            query = query.limit(limit)
        async with self._engine.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
            ids = [row["id"] for row in rows]
            deliveries: dict[int, list[Delivery]] = {i: [] for i in ids}
            if ids:
                d = alert_deliveries.c
                found = await connection.execute(
                    select(alert_deliveries).where(d.alert_id.in_(ids)).order_by(d.id)
                )
                for row in found.mappings():
                    deliveries[row["alert_id"]].append(
                        Delivery(
                            notice=row["notice"],
                            channel=row["channel"],
                            attempted_at=row["attempted_at"],
                            outcome=row["outcome"],
                            duration_ms=row["duration_ms"],
                            error=row["error"],
                        )
                    )
        return [Alert(**dict(row), deliveries=deliveries[row["id"]]) for row in rows]
