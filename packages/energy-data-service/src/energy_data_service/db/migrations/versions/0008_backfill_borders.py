"""Backfills of directional data: a job keeps its borders, a chunk its out area.

Flows, exchanges and capacities are asked for a border (area ← out area). A job gains
``borders`` (a JSON list of ``[area, out_area]`` EIC pairs, null for jobs without directional
types) and a progress row ``out_area_code`` ('' for every chunk of one area), which joins the
chunk's unique key: two borders into one area are two plans. Existing rows keep '' / null, what
they were (jobs of one area each).

SQLite rebuilds ``backfill_progress`` for the new key (ids kept) inside the migration's
transaction; PostgreSQL adds the column and swaps the constraint.

Revision ID: 0008_backfill_borders
Revises: 0007_series_qualifiers
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_backfill_borders"
down_revision: str | None = "0007_series_qualifiers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_KEY = ["area_code", "data_type", "chunk_start", "chunk_end"]
_NEW_KEY = ["area_code", "out_area_code", "data_type", "chunk_start", "chunk_end"]


def upgrade() -> None:
    op.add_column("backfill_jobs", sa.Column("borders", sa.JSON, nullable=True))
    with op.batch_alter_table("backfill_progress", recreate="auto") as batch:
        batch.add_column(
            sa.Column("out_area_code", sa.String(32), nullable=False, server_default=sa.text("''"))
        )
        batch.drop_constraint("uq_backfill_progress_chunk", type_="unique")
        batch.create_unique_constraint("uq_backfill_progress_chunk", _NEW_KEY)


def downgrade() -> None:
    """Back to one plan per area: progress of borders is dropped (a resumed job re-plans it)."""
    op.execute("DELETE FROM backfill_progress WHERE out_area_code <> ''")
    with op.batch_alter_table("backfill_progress", recreate="auto") as batch:
        batch.drop_constraint("uq_backfill_progress_chunk", type_="unique")
        batch.create_unique_constraint("uq_backfill_progress_chunk", _OLD_KEY)
        batch.drop_column("out_area_code")
    with op.batch_alter_table("backfill_jobs", recreate="auto") as batch:
        batch.drop_column("borders")
