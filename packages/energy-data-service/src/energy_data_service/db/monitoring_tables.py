"""Tables of monitoring: alerts with their history, each channel's deliveries, quality scores.

Kept apart from ``db.tables`` (storage) but on the same ``metadata``; migration
``0003_monitoring`` creates them.
"""

from __future__ import annotations

from service_common import UtcDateTime
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    text,
)

from energy_data_service.db.tables import metadata

alerts = Table(
    "alerts",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("rule", String(32), nullable=False),
    Column("subject", String(128), nullable=False, comment="DE_LU/actual_load, …"),
    Column("state", String(16), nullable=False, comment="open|acknowledged|resolved"),
    Column("message", Text, nullable=False),
    Column("details", JSON, nullable=False),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("notified_at", UtcDateTime, nullable=True, comment="first opening notice delivered"),
    Column("acknowledged_at", UtcDateTime, nullable=True),
    Column("acknowledged_by", String(128), nullable=True),
    Column("resolved_at", UtcDateTime, nullable=True),
    Column("recovery_notified_at", UtcDateTime, nullable=True),
    Index(
        "uq_alerts_active_rule_subject",
        "rule",
        "subject",
        unique=True,
        sqlite_where=text("resolved_at IS NULL"),
        postgresql_where=text("resolved_at IS NULL"),
    ),
    Index("ix_alerts_opened", "opened_at"),
)

alert_deliveries = Table(
    "alert_deliveries",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("alert_id", ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False),
    Column("notice", String(16), nullable=False, comment="opened|resolved"),
    Column("channel", String(16), nullable=False, comment="webhook|email"),
    Column("attempted_at", UtcDateTime, nullable=False),
    Column("outcome", String(16), nullable=False, comment="delivered|failed|rate_limited"),
    Column("duration_ms", Float, nullable=True),
    Column("error", Text, nullable=True),
    Index("ix_alert_deliveries_alert", "alert_id"),
    Index("ix_alert_deliveries_channel_time", "channel", "attempted_at"),
)

quality_scores = Table(
    "quality_scores",
    metadata,
    Column(
        "series_id",
        Integer,
        nullable=False,
        comment="series.id (as points.series_id: no FOREIGN KEY, see migration 0009)",
    ),
    Column("day", Date, nullable=False, comment="local day of the area"),
    Column("score", Float, nullable=False),
    Column("expected", Integer, nullable=False),
    Column("present", Integer, nullable=False),
    Column("missing", Integer, nullable=False),
    Column("invalid", Integer, nullable=False),
    Column("outliers", Integer, nullable=False),
    Column("flat_points", Integer, nullable=False),
    Column("revised_share", Float, nullable=False),
    Column("forecast_mape", Float, nullable=True),
    Column("computed_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("series_id", "day", name="pk_quality_scores"),
    Index("ix_quality_scores_day", "day"),
)
