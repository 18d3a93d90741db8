"""The trigger that keeps every replaced value in ``point_history``.

The upsert (``repositories/points.py``) moves ``known_from`` forward exactly when it replaces a
value with a different one; this trigger then copies the old row into ``point_history`` with
``known_until`` = the new ``known_from``. Kept in the database rather than in the writer, so
any statement that replaces a value (a bulk upsert, a hand-written fix, a later writer) keeps
the old one, and an unchanged value (``known_from`` untouched) writes nothing.

A replacement within the same second as the value it replaces leaves an empty span
(``known_until = known_from``) that no as-of read could ever see; the trigger skips it.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

_COLUMNS = 'series_id, "timestamp", known_from, known_until, value, price, interval_end, fetch_id'
_OLD_ROW = (
    'OLD.series_id, OLD."timestamp", OLD.known_from, NEW.known_from, OLD.value, OLD.price, '
    "OLD.interval_end, OLD.fetch_id"
)

SQLITE_TRIGGER = (
    "CREATE TRIGGER points_keep_history AFTER UPDATE OF known_from ON points "
    "FOR EACH ROW WHEN OLD.known_from < NEW.known_from BEGIN "
    f"INSERT INTO point_history ({_COLUMNS}) VALUES ({_OLD_ROW}); END"
)

POSTGRES_FUNCTION = (
    "CREATE OR REPLACE FUNCTION points_keep_history() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN INSERT INTO point_history ({_COLUMNS}) VALUES ({_OLD_ROW}); RETURN NULL; END $$"
)
POSTGRES_TRIGGER = (
    "CREATE TRIGGER points_keep_history AFTER UPDATE ON points FOR EACH ROW "
    "WHEN (OLD.known_from < NEW.known_from) EXECUTE FUNCTION points_keep_history()"
)


def create_history_trigger(connection: Connection) -> None:
    """Install the trigger on ``points`` (inside the migration's transaction)."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(SQLITE_TRIGGER)
        return
    connection.exec_driver_sql(POSTGRES_FUNCTION)
    connection.exec_driver_sql(POSTGRES_TRIGGER)


def drop_history_trigger(connection: Connection) -> None:
    """Remove the trigger (downgrade)."""
    connection.exec_driver_sql("DROP TRIGGER IF EXISTS points_keep_history" + _on(connection))
    if connection.dialect.name != "sqlite":
        connection.exec_driver_sql("DROP FUNCTION IF EXISTS points_keep_history()")


def _on(connection: Connection) -> str:
    return "" if connection.dialect.name == "sqlite" else " ON points"
