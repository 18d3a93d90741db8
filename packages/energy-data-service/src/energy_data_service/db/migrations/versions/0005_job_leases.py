"""Job leases: a backfill is running only while its owner renews the lease; leader terms.

Revision ID: 0005_job_leases
Revises: 0004_storage_v2
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from service_common import UtcDateTime

revision: str = "0005_job_leases"
down_revision: str | None = "0004_storage_v2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("backfill_jobs") as table:
        table.add_column(sa.Column("owner", sa.String(128), nullable=True))
        table.add_column(sa.Column("lease_until", UtcDateTime, nullable=True))
    with op.batch_alter_table("job_executions") as table:
        table.add_column(sa.Column("fencing_token", sa.String(64), nullable=True))
    op.create_table(
        "leader_terms",
        sa.Column("term", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("instance", sa.String(128), nullable=False),
        sa.Column("backend_pid", sa.Integer, nullable=True),
        sa.Column("elected_at", UtcDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("leader_terms")
    with op.batch_alter_table("job_executions") as table:
        table.drop_column("fencing_token")
    with op.batch_alter_table("backfill_jobs") as table:
        table.drop_column("lease_until")
        table.drop_column("owner")
