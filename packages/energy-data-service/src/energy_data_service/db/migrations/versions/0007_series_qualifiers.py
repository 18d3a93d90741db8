"""Contract type, balancing direction and imbalance price category in a series' identity.

Three columns join ``uq_series_identity`` (codes of the platform, '' when a series has none):

- ``contract_type``: the horizon of scheduled exchanges and transfer capacities
  (``contract_MarketAgreement.type`` A01 day-ahead, A02 week, A03 month, A04 year, A05 total,
  A07 intraday), so two horizons of one border are two series instead of one overwriting the
  other.
- ``flow_direction``: up (A01) or down (A02) of balancing series. Until now it sat in the
  series' ``registered_resource`` as ``direction:A01``; those rows move to the new column and
  their resource becomes '' again.
- ``price_category``: the two imbalance prices of one quarter-hour (A04 excess balance / long,
  A05 insufficient balance / short), stored as one series before, the second overwriting the
  first.

Rows stored before this revision keep what they had, attributed as the collector asked for it:
scheduled exchanges were collected as the total (A05), transfer capacities as day-ahead (A01).
A document of another horizon imported before was merged into those series and cannot be told
apart now; importing it again stores it as its own series. Imbalance prices had lost their
second category; they keep '' (collect or import them again to have both).

SQLite cannot change a table's constraints in place: ``series`` is rebuilt (same ids, so
``points`` and ``point_history`` still refer to the right rows) inside the migration's
transaction; PostgreSQL adds the columns and swaps the constraint.

Revision ID: 0007_series_qualifiers
Revises: 0006_history_keys
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_series_qualifiers"
down_revision: str | None = "0006_history_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_IDENTITY = (
    "area_code",
    "data_type",
    "out_area_code",
    "psr_type",
    "business_type",
    "resolution",
    "classification_sequence",
    "registered_resource",
)
_QUALIFIERS = ("contract_type", "flow_direction", "price_category")
_NEW_IDENTITY = (*_OLD_IDENTITY, *_QUALIFIERS)
_PREFIX = "direction:"

_MOVE_DIRECTION = (
    f"UPDATE series SET flow_direction = substr(registered_resource, {len(_PREFIX) + 1}),"
    f" registered_resource = '' WHERE registered_resource LIKE '{_PREFIX}%'"
)
_CONTRACT_ASKED = (("scheduled_exchanges", "A05"), ("net_transfer_capacity", "A01"))


def upgrade() -> None:
    with op.batch_alter_table("series", recreate="auto") as batch:
        for name in _QUALIFIERS:
            batch.add_column(
                sa.Column(name, sa.String(4), nullable=False, server_default=sa.text("''"))
            )
        batch.drop_constraint("uq_series_identity", type_="unique")
        batch.create_unique_constraint("uq_series_identity", list(_NEW_IDENTITY))
    op.execute(_MOVE_DIRECTION)
    for data_type, contract in _CONTRACT_ASKED:
        op.execute(
            f"UPDATE series SET contract_type = '{contract}' WHERE data_type = '{data_type}'"
        )


def downgrade() -> None:
    """Back to 0006's identity. Series that differ only by a new column cannot all stay: the
    direction goes back into the resource slot, and of series still alike the newest fetched
    keeps its points (the others are removed with theirs)."""
    op.execute(
        f"UPDATE series SET registered_resource = '{_PREFIX}' || flow_direction"
        " WHERE flow_direction <> '' AND registered_resource = ''"
    )
    alike = " AND ".join(f"o.{c} = series.{c}" for c in _OLD_IDENTITY)
    newer = (
        "(o.last_fetched_at > series.last_fetched_at OR"
        " (o.last_fetched_at = series.last_fetched_at AND o.id > series.id))"
    )
    losers = (
        f"SELECT id FROM series WHERE EXISTS (SELECT 1 FROM series o WHERE {alike} AND {newer})"
    )
    op.execute(f"DELETE FROM point_history WHERE series_id IN ({losers})")
    op.execute(f"DELETE FROM points WHERE series_id IN ({losers})")
    op.execute(f"DELETE FROM series WHERE id IN ({losers})")
    with op.batch_alter_table("series", recreate="auto") as batch:
        batch.drop_constraint("uq_series_identity", type_="unique")
        batch.create_unique_constraint("uq_series_identity", list(_OLD_IDENTITY))
        for name in reversed(_QUALIFIERS):
            batch.drop_column(name)
