"""Scheduler: one row per attempt of a scheduled job (history and restart catch-up).

Revision ID: 0002_scheduler
Revises: 0001_storage
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from service_common import UtcDateTime

revision: str = "0002_scheduler"
down_revision: str | None = "0001_storage"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job_executions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("job_id", sa.String(64), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("instance", sa.String(128), nullable=False),
        sa.Column("started_at", UtcDateTime, nullable=False),
        sa.Column("finished_at", UtcDateTime, nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("points", sa.Integer, nullable=True),
        sa.Column("error_class", sa.String(64), nullable=True),
        sa.Column("error", sa.Text, nullable=True),
    )
    op.create_index("ix_job_executions_job_started", "job_executions", ["job_id", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_job_executions_job_started", table_name="job_executions")
    op.drop_table("job_executions")
