"""Monitoring: alerts with history, per-channel deliveries, daily quality scores.

Revision ID: 0003_monitoring
Revises: 0002_scheduler
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from service_common import UtcDateTime

revision: str = "0003_monitoring"
down_revision: str | None = "0002_scheduler"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("rule", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("opened_at", UtcDateTime, nullable=False),
        sa.Column("notified_at", UtcDateTime, nullable=True),
        sa.Column("acknowledged_at", UtcDateTime, nullable=True),
        sa.Column("acknowledged_by", sa.String(128), nullable=True),
        sa.Column("resolved_at", UtcDateTime, nullable=True),
        sa.Column("recovery_notified_at", UtcDateTime, nullable=True),
    )
    op.create_index(
        "uq_alerts_active_rule_subject",
        "alerts",
        ["rule", "subject"],
        unique=True,
        sqlite_where=sa.text("resolved_at IS NULL"),
        postgresql_where=sa.text("resolved_at IS NULL"),
    )
    op.create_index("ix_alerts_opened", "alerts", ["opened_at"])
    op.create_table(
        "alert_deliveries",
        sa.Column("id", _ID, primary_key=True),
        sa.Column("alert_id", _ID, sa.ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("notice", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("attempted_at", UtcDateTime, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("duration_ms", sa.Float, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
    )
    op.create_index("ix_alert_deliveries_alert", "alert_deliveries", ["alert_id"])
    op.create_index(
        "ix_alert_deliveries_channel_time", "alert_deliveries", ["channel", "attempted_at"]
    )
    op.create_table(
        "quality_scores",
        sa.Column("area_code", sa.String(32), nullable=False),
        sa.Column("data_type", sa.String(32), nullable=False),
        sa.Column("business_type", sa.String(8), nullable=False),
        sa.Column("resolution", sa.String(8), nullable=False),
        sa.Column("classification_sequence", sa.Integer, nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("expected", sa.Integer, nullable=False),
        sa.Column("present", sa.Integer, nullable=False),
        sa.Column("missing", sa.Integer, nullable=False),
        sa.Column("invalid", sa.Integer, nullable=False),
        sa.Column("outliers", sa.Integer, nullable=False),
        sa.Column("flat_points", sa.Integer, nullable=False),
        sa.Column("revised_share", sa.Float, nullable=False),
        sa.Column("forecast_mape", sa.Float, nullable=True),
        sa.Column("computed_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint(
            "area_code",
            "data_type",
            "business_type",
            "resolution",
            "classification_sequence",
            "day",
            name="pk_quality_scores",
        ),
    )
    op.create_index("ix_quality_scores_day", "quality_scores", ["day"])


def downgrade() -> None:
    op.drop_index("ix_quality_scores_day", table_name="quality_scores")
    op.drop_table("quality_scores")
    op.drop_index("ix_alert_deliveries_channel_time", table_name="alert_deliveries")
    op.drop_index("ix_alert_deliveries_alert", table_name="alert_deliveries")
    op.drop_table("alert_deliveries")
    op.drop_index("ix_alerts_opened", table_name="alerts")
    op.drop_index("uq_alerts_active_rule_subject", table_name="alerts")
    op.drop_table("alerts")
