"""History keyed by fetch too, so a superseded value is kept even with an empty span.

``point_history``'s key becomes (series_id, timestamp, known_from, fetch_id): a value that was
already superseded when it was learned is kept with ``known_until = known_from``, which can
equal the ``known_from`` of its successor's span. The trigger now records every replaced value
that differs, not only those that leave a non-empty span (``db/history.py``).

SQLite cannot change a primary key in place: the table is rebuilt (WITHOUT ROWID, as before)
inside the migration's transaction, the trigger dropped first and created again after.

Revision ID: 0006_history_keys
Revises: 0005_job_leases
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from energy_data_service.db.history import create_history_trigger, drop_history_trigger
from energy_data_service.db.tables import EpochSeconds

revision: str = "0006_history_keys"
down_revision: str | None = "0005_job_leases"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = 'series_id, "timestamp", known_from, known_until, value, price, interval_end, fetch_id'
_OLD_KEY = ("series_id", "timestamp", "known_from")
_NEW_KEY = (*_OLD_KEY, "fetch_id")

# 0004's trigger, restored by the downgrade.
_OLD_ROW = (
    'OLD.series_id, OLD."timestamp", OLD.known_from, NEW.known_from, OLD.value, OLD.price, '
    "OLD.interval_end, OLD.fetch_id"
)
_SQLITE_TRIGGER_0004 = (
    "CREATE TRIGGER points_keep_history AFTER UPDATE OF known_from ON points "
    "FOR EACH ROW WHEN OLD.known_from < NEW.known_from BEGIN "
    f"INSERT INTO point_history ({_COLUMNS}) VALUES ({_OLD_ROW}); END"
)
_POSTGRES_FUNCTION_0004 = (
    "CREATE OR REPLACE FUNCTION points_keep_history() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN INSERT INTO point_history ({_COLUMNS}) VALUES ({_OLD_ROW}); RETURN NULL; END $$"
)
_POSTGRES_TRIGGER_0004 = (
    "CREATE TRIGGER points_keep_history AFTER UPDATE ON points FOR EACH ROW "
    "WHEN (OLD.known_from < NEW.known_from) EXECUTE FUNCTION points_keep_history()"
)


def _rebuild_sqlite(key: tuple[str, ...], keep: str) -> None:
    op.create_table(
        "point_history_rebuilt",
        sa.Column("series_id", sa.Integer, nullable=False),
        sa.Column("timestamp", EpochSeconds, nullable=False),
        sa.Column("known_from", EpochSeconds, nullable=False),
        sa.Column("known_until", EpochSeconds, nullable=False),
        sa.Column("value", sa.Float(precision=53), nullable=False),
        sa.Column("price", sa.Float(precision=53), nullable=True),
        sa.Column("interval_end", EpochSeconds, nullable=True),
        sa.Column("fetch_id", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint(*key, name="pk_point_history"),
        sqlite_with_rowid=False,
    )
    op.execute(
        f"INSERT INTO point_history_rebuilt ({_COLUMNS}) SELECT {_COLUMNS} FROM point_history"
        f" WHERE {keep}"
    )
    op.drop_table("point_history")
    op.rename_table("point_history_rebuilt", "point_history")


def _primary_key(key: tuple[str, ...]) -> None:
    columns = ", ".join(f'"{c}"' for c in key)
    op.execute(
        "ALTER TABLE point_history DROP CONSTRAINT pk_point_history, "
        f"ADD CONSTRAINT pk_point_history PRIMARY KEY ({columns})"
    )


def upgrade() -> None:
    connection = op.get_bind()
    drop_history_trigger(connection)
    if connection.dialect.name == "sqlite":
        _rebuild_sqlite(_NEW_KEY, "1 = 1")
    else:
        _primary_key(_NEW_KEY)
    create_history_trigger(connection)


def downgrade() -> None:
    """Back to 0004's key and trigger; values kept with an empty span (which that key cannot
    hold beside their successor) are dropped."""
    connection = op.get_bind()
    drop_history_trigger(connection)
    if connection.dialect.name == "sqlite":
        _rebuild_sqlite(_OLD_KEY, "known_until > known_from")
        connection.exec_driver_sql(_SQLITE_TRIGGER_0004)
        return
    op.execute("DELETE FROM point_history WHERE known_until <= known_from")
    _primary_key(_OLD_KEY)
    connection.exec_driver_sql(_POSTGRES_FUNCTION_0004)
    connection.exec_driver_sql(_POSTGRES_TRIGGER_0004)
