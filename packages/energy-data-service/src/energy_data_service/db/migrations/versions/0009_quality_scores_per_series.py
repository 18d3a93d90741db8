"""Daily quality scores per catalogue series: ``quality_scores`` is keyed by series_id × day.

Before, a score was kept under area × data type × business type × resolution × sequence, so the
production types, borders, horizons, directions and price categories sharing that key were
summed into one row with the worst score. Now each row names its series (``series_id``, the
``series`` catalogue row, as ``points.series_id`` does: no FOREIGN KEY constraint, so a SQLite
batch rebuild of ``series`` in a later migration cannot cascade into the scores).

Existing rows: a row whose old key matches exactly one series moves to that series. A row whose
key matches several series (it is their sum) or none cannot be given to one series without
inventing figures; it stays, unchanged, in ``quality_scores_by_key`` (the old table renamed,
its 0008 columns and key). Nothing reads that table; it keeps the history for an operator and
for the downgrade. On most stores it is empty.

Downgrade: per-series rows are summed back per old key and day (counts added, the worst score,
revised share weighted by present points, the latest computed_at) over the rows kept in
``quality_scores_by_key`` (a per-series day replaces a kept row of the same key and day), and
the old table takes its name back. Scores of series that no longer exist are dropped.

Both backends rename tables (PostgreSQL also renames the primary-key constraint, whose index
name is unique per schema); everything runs in the migration's transaction.

Revision ID: 0009_quality_scores_per_series
Revises: 0008_backfill_borders
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from service_common import UtcDateTime

revision: str = "0009_quality_scores_per_series"
down_revision: str | None = "0008_backfill_borders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEPT = "quality_scores_by_key"
_KEY = ("area_code", "data_type", "business_type", "resolution", "classification_sequence")
_FIGURES = (
    "score",
    "expected",
    "present",
    "missing",
    "invalid",
    "outliers",
    "flat_points",
    "revised_share",
    "forecast_mape",
    "computed_at",
)


def _rename_primary_key(table: str, old: str, new: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE {table} RENAME CONSTRAINT {old} TO {new}")


def _matches(table: str, alias: str) -> str:
    return " AND ".join(f"{alias}.{c} = {table}.{c}" for c in _KEY)


def upgrade() -> None:
    op.drop_index("ix_quality_scores_day", table_name="quality_scores")
    op.rename_table("quality_scores", KEPT)
    _rename_primary_key(KEPT, "pk_quality_scores", "pk_quality_scores_by_key")
    op.create_table(
        "quality_scores",
        sa.Column("series_id", sa.Integer, nullable=False),
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
        sa.PrimaryKeyConstraint("series_id", "day", name="pk_quality_scores"),
    )
    op.create_index("ix_quality_scores_day", "quality_scores", ["day"])
    unique = f"(SELECT count(*) FROM series m WHERE {_matches(KEPT, 'm')}) = 1"
    figures = ", ".join(_FIGURES)
    op.execute(
        f"INSERT INTO quality_scores (series_id, day, {figures})"
        f" SELECT s.id, {KEPT}.day, {', '.join(f'{KEPT}.{c}' for c in _FIGURES)}"
        f" FROM {KEPT} JOIN series s ON {_matches(KEPT, 's')} WHERE {unique}"
    )
    op.execute(f"DELETE FROM {KEPT} WHERE {unique}")


def downgrade() -> None:
    """Per-series scores summed back per old key (see the module's docstring)."""
    per_series = "quality_scores_per_series"
    op.drop_index("ix_quality_scores_day", table_name="quality_scores")
    op.rename_table("quality_scores", per_series)
    _rename_primary_key(per_series, "pk_quality_scores", "pk_quality_scores_per_series")
    op.rename_table(KEPT, "quality_scores")
    _rename_primary_key("quality_scores", "pk_quality_scores_by_key", "pk_quality_scores")
    op.create_index("ix_quality_scores_day", "quality_scores", ["day"])
    summed = (
        f"SELECT {', '.join(f's.{c}' for c in _KEY)}, q.day,"
        " MIN(q.score), SUM(q.expected), SUM(q.present), SUM(q.missing), SUM(q.invalid),"
        " SUM(q.outliers), SUM(q.flat_points),"
        " CASE WHEN SUM(q.present) > 0"
        " THEN SUM(q.revised_share * q.present) / SUM(q.present) ELSE 0 END,"
        " MAX(q.forecast_mape), MAX(q.computed_at)"
        f" FROM {per_series} q JOIN series s ON s.id = q.series_id"
        f" GROUP BY {', '.join(f's.{c}' for c in _KEY)}, q.day"
    )
    op.execute(
        "DELETE FROM quality_scores WHERE EXISTS (SELECT 1 FROM"
        f" {per_series} q JOIN series s ON s.id = q.series_id"
        f" WHERE {_matches('quality_scores', 's')} AND q.day = quality_scores.day)"
    )
    op.execute(
        f"INSERT INTO quality_scores ({', '.join(_KEY)}, day, {', '.join(_FIGURES)}) {summed}"
    )
    op.drop_table(per_series)
