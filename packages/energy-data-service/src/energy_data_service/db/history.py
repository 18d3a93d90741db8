"""The trigger that keeps every replaced value in ``point_history``.

The upsert (``repositories/point_writes.py``) replaces a stored value when a version that wins
(see there) brings a different value or price; this trigger then copies the old row into
``point_history`` with ``known_until`` = the new row's ``known_from``. Kept in the database
rather than in the writer, so any statement that replaces a value (a bulk upsert, a
hand-written fix, a later writer) keeps the old one, and an unchanged value (the same value and
price, only the document moving forward) writes nothing.

A value can leave with an empty span (``known_until = known_from``): when the version that
replaces it was fetched before it (a newer revision whose fetch commits late), the old value
was already superseded when it was learned. It is kept all the same — ``versions`` lists it —
and no as-of read ever answers with it (``known_from <= T < known_until`` holds for no ``T``).
A row written again with its own document (a duplicate in one document) is no new version.

``point_history``'s key is (series, start, known_from, fetch): two values of one point can
share ``known_from`` (an empty span beside the span of its successor); the insert ignores a
row that is there already, so writing the same document twice records it once.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

_COLUMNS = 'series_id, "timestamp", known_from, known_until, value, price, interval_end, fetch_id'
_OLD_ROW = (
    'OLD.series_id, OLD."timestamp", OLD.known_from, NEW.known_from, OLD.value, OLD.price, '
    "OLD.interval_end, OLD.fetch_id"
)

SQLITE_TRIGGER = (
    "CREATE TRIGGER points_keep_history AFTER UPDATE ON points FOR EACH ROW "
    "WHEN OLD.fetch_id <> NEW.fetch_id "
    "AND (OLD.value IS NOT NEW.value OR OLD.price IS NOT NEW.price) BEGIN "
    f"INSERT OR IGNORE INTO point_history ({_COLUMNS}) VALUES ({_OLD_ROW}); END"
)

POSTGRES_FUNCTION = (
    "CREATE OR REPLACE FUNCTION points_keep_history() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN INSERT INTO point_history ({_COLUMNS}) VALUES ({_OLD_ROW}) ON CONFLICT DO NOTHING; "
    "RETURN NULL; END $$"
)
POSTGRES_TRIGGER = (
    "CREATE TRIGGER points_keep_history AFTER UPDATE ON points FOR EACH ROW "
    "WHEN (OLD.fetch_id <> NEW.fetch_id AND (OLD.value IS DISTINCT FROM NEW.value "
    "OR OLD.price IS DISTINCT FROM NEW.price)) EXECUTE FUNCTION points_keep_history()"
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
