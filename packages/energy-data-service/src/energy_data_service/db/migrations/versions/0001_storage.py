"""Storage: energy points, backfill jobs and progress, collection runs.

Revision ID: 0001_storage
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from service_common import UtcDateTime

revision: str = "0001_storage"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "energy_points",
        sa.Column("area_code", sa.String(32), nullable=False),
        sa.Column("data_type", sa.String(32), nullable=False),
        sa.Column("business_type", sa.String(8), nullable=False),
        sa.Column("resolution", sa.String(8), nullable=False),
        sa.Column("classification_sequence", sa.Integer, nullable=False),
        sa.Column("timestamp", UtcDateTime, nullable=False),
        sa.Column("value", sa.Float(precision=53), nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("curve_type", sa.String(4), nullable=False),
        sa.Column("document_mrid", sa.String(64), nullable=False),
        sa.Column("revision_number", sa.Integer, nullable=False),
        sa.Column("document_created_at", UtcDateTime, nullable=True),
        sa.Column("fetched_at", UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint(
            "area_code",
            "data_type",
            "timestamp",
            "business_type",
            "resolution",
            "classification_sequence",
            name="pk_energy_points",
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "backfill_jobs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("areas", sa.JSON, nullable=False),
        sa.Column("data_types", sa.JSON, nullable=False),
        sa.Column("start", UtcDateTime, nullable=False),
        sa.Column("end", UtcDateTime, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UtcDateTime, nullable=False),
        sa.Column("finished_at", UtcDateTime, nullable=True),
        sa.Column("cancelled", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("error", sa.Text, nullable=True),
    )
    op.create_table(
        "backfill_progress",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "job_id",
            sa.Integer,
            sa.ForeignKey("backfill_jobs.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("area_code", sa.String(32), nullable=False),
        sa.Column("data_type", sa.String(32), nullable=False),
        sa.Column("chunk_start", UtcDateTime, nullable=False),
        sa.Column("chunk_end", UtcDateTime, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("points", sa.Integer, nullable=False, server_default="0"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("updated_at", UtcDateTime, nullable=False),
        sa.UniqueConstraint(
            "area_code",
            "data_type",
            "chunk_start",
            "chunk_end",
            name="uq_backfill_progress_chunk",
        ),
    )
    op.create_table(
        "collection_runs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("run_kind", sa.String(16), nullable=False),
        sa.Column("area_code", sa.String(32), nullable=False),
        sa.Column("data_type", sa.String(32), nullable=False),
        sa.Column("window_start", UtcDateTime, nullable=True),
        sa.Column("window_end", UtcDateTime, nullable=True),
        sa.Column("started_at", UtcDateTime, nullable=False),
        sa.Column("finished_at", UtcDateTime, nullable=False),
        sa.Column("points", sa.Integer, nullable=False),
        sa.Column("success", sa.Boolean, nullable=False),
        sa.Column("error_class", sa.String(64), nullable=True),
        sa.Column("error_text", sa.Text, nullable=True),
        sa.Column("platform_response_ms", sa.Float, nullable=True),
        sa.Column("processing_ms", sa.Float, nullable=True),
    )
    op.create_index(
        "ix_collection_runs_area_type_started",
        "collection_runs",
        ["area_code", "data_type", "started_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_collection_runs_area_type_started", table_name="collection_runs")
    op.drop_table("collection_runs")
    op.drop_table("backfill_progress")
    op.drop_table("backfill_jobs")
    op.drop_table("energy_points")
