"""Storage v2: series catalogue, per-fetch provenance, compact points, value history.

Moves every row of ``energy_points`` into ``series`` / ``fetches`` / ``points`` (each value
becomes its first known version, ``known_from`` = its fetch time rounded up to the second),
checks that the point count matches, and only then drops ``energy_points``. It runs inside the
migration transaction (``db.migrate`` makes SQLite's DDL transactional too), so an
interruption leaves the v1 store as it was.

Revision ID: 0004_storage_v2
Revises: 0003_monitoring
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from energy_data_service.db.tables import EpochSeconds, epoch_seconds
from energy_data_service.domain import FIXED_STEPS, area_time_zone, step_end
from service_common import UtcDateTime

revision: str = "0004_storage_v2"
down_revision: str | None = "0003_monitoring"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The history trigger as this revision created it (``0006_history_keys`` replaces it; the
# current one lives in ``db/history.py``): a migration is a frozen snapshot.
_HISTORY_COLUMNS = (
    'series_id, "timestamp", known_from, known_until, value, price, interval_end, fetch_id'
)
_OLD_ROW = (
    'OLD.series_id, OLD."timestamp", OLD.known_from, NEW.known_from, OLD.value, OLD.price, '
    "OLD.interval_end, OLD.fetch_id"
)
_SQLITE_TRIGGER = (
    "CREATE TRIGGER points_keep_history AFTER UPDATE OF known_from ON points "
    "FOR EACH ROW WHEN OLD.known_from < NEW.known_from BEGIN "
    f"INSERT INTO point_history ({_HISTORY_COLUMNS}) VALUES ({_OLD_ROW}); END"
)
_POSTGRES_FUNCTION = (
    "CREATE OR REPLACE FUNCTION points_keep_history() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN INSERT INTO point_history ({_HISTORY_COLUMNS}) VALUES ({_OLD_ROW}); RETURN NULL; END $$"
)
_POSTGRES_TRIGGER = (
    "CREATE TRIGGER points_keep_history AFTER UPDATE ON points FOR EACH ROW "
    "WHEN (OLD.known_from < NEW.known_from) EXECUTE FUNCTION points_keep_history()"
)


def create_history_trigger(connection: sa.engine.Connection) -> None:
    """This revision's history trigger (see ``0006_history_keys`` for today's)."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(_SQLITE_TRIGGER)
        return
    connection.exec_driver_sql(_POSTGRES_FUNCTION)
    connection.exec_driver_sql(_POSTGRES_TRIGGER)


def drop_history_trigger(connection: sa.engine.Connection) -> None:
    """Remove the history trigger."""
    sqlite = connection.dialect.name == "sqlite"
    connection.exec_driver_sql(
        "DROP TRIGGER IF EXISTS points_keep_history" + ("" if sqlite else " ON points")
    )
    if not sqlite:
        connection.exec_driver_sql("DROP FUNCTION IF EXISTS points_keep_history()")


_IDENTITY = (
    "area_code",
    "data_type",
    "out_area_code",
    "psr_type",
    "business_type",
    "resolution",
    "classification_sequence",
    "registered_resource",
)


def _create_tables() -> None:
    op.create_table(
        "series",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("data_type", sa.String(48), nullable=False),
        sa.Column("area_code", sa.String(32), nullable=False),
        sa.Column("out_area_code", sa.String(32), nullable=False),
        sa.Column("psr_type", sa.String(8), nullable=False),
        sa.Column("business_type", sa.String(8), nullable=False),
        sa.Column("resolution", sa.String(8), nullable=False),
        sa.Column("classification_sequence", sa.Integer, nullable=False),
        sa.Column("registered_resource", sa.String(64), nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("curve_type", sa.String(4), nullable=False),
        sa.Column("first_timestamp", UtcDateTime, nullable=False),
        sa.Column("last_timestamp", UtcDateTime, nullable=False),
        sa.Column("first_fetched_at", UtcDateTime, nullable=False),
        sa.Column("last_fetched_at", UtcDateTime, nullable=False),
        sa.UniqueConstraint(*_IDENTITY, name="uq_series_identity"),
    )
    op.create_table(
        "fetches",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("document_mrid", sa.String(64), nullable=False),
        sa.Column("revision_number", sa.Integer, nullable=False),
        sa.Column("document_created_at", UtcDateTime, nullable=True),
        sa.Column("fetched_at", UtcDateTime, nullable=False),
    )
    op.create_index("ix_fetches_document", "fetches", ["document_mrid", "fetched_at"])
    op.create_table(
        "points",
        sa.Column("series_id", sa.Integer, nullable=False),
        sa.Column("timestamp", EpochSeconds, nullable=False),
        sa.Column("value", sa.Float(precision=53), nullable=False),
        sa.Column("price", sa.Float(precision=53), nullable=True),
        sa.Column("interval_end", EpochSeconds, nullable=True),
        sa.Column("fetch_id", sa.Integer, nullable=False),
        sa.Column("known_from", EpochSeconds, nullable=False),
        sa.PrimaryKeyConstraint("series_id", "timestamp", name="pk_points"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "point_history",
        sa.Column("series_id", sa.Integer, nullable=False),
        sa.Column("timestamp", EpochSeconds, nullable=False),
        sa.Column("known_from", EpochSeconds, nullable=False),
        sa.Column("known_until", EpochSeconds, nullable=False),
        sa.Column("value", sa.Float(precision=53), nullable=False),
        sa.Column("price", sa.Float(precision=53), nullable=True),
        sa.Column("interval_end", EpochSeconds, nullable=True),
        sa.Column("fetch_id", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("series_id", "timestamp", "known_from", name="pk_point_history"),
        sqlite_with_rowid=False,
    )


_V1_KEY = "area_code, data_type, business_type, resolution, classification_sequence"
_SERIES_FROM_V1 = (
    "INSERT INTO series (area_code, data_type, out_area_code, psr_type, business_type,"
    " resolution, classification_sequence, registered_resource, unit, curve_type,"
    " first_timestamp, last_timestamp, first_fetched_at, last_fetched_at)"
    " SELECT area_code, data_type, '', '', business_type, resolution, classification_sequence,"
    ' \'\', max(unit), max(curve_type), min("timestamp"), max("timestamp"), min(fetched_at),'
    f" max(fetched_at) FROM energy_points GROUP BY {_V1_KEY}"
)
_FETCHES_FROM_V1 = (
    "INSERT INTO fetches (document_mrid, revision_number, document_created_at, fetched_at)"
    " SELECT DISTINCT document_mrid, revision_number, document_created_at, fetched_at"
    " FROM energy_points"
)
# Interval starts and fetch times as the new columns hold them: SQLite integer seconds from
# the v1 text 'YYYY-MM-DD HH:MM:SS.ffffff' (known_from rounded up), PostgreSQL timestamptz.
_SQLITE_TS = "CAST(strftime('%s', e.\"timestamp\") AS INTEGER)"
_SQLITE_KNOWN = (
    "CAST(strftime('%s', e.fetched_at) AS INTEGER) + (substr(e.fetched_at, 21, 6) > '000000')"
)
_PG_TS = 'e."timestamp"'
_PG_KNOWN = "date_trunc('second', e.fetched_at) + CASE WHEN e.fetched_at > date_trunc('second',"
_PG_KNOWN += " e.fetched_at) THEN INTERVAL '1 second' ELSE INTERVAL '0' END"


def _points_from_v1(dialect: str) -> str:
    sqlite = dialect == "sqlite"
    same = "IS" if sqlite else "IS NOT DISTINCT FROM"
    series_match = " AND ".join(f"s.{c} = e.{c}" for c in _V1_KEY.split(", "))
    return (
        'INSERT INTO points (series_id, "timestamp", value, price, interval_end, fetch_id,'
        f" known_from) SELECT s.id, {_SQLITE_TS if sqlite else _PG_TS}, e.value, NULL, NULL,"
        f" f.id, {_SQLITE_KNOWN if sqlite else _PG_KNOWN} FROM energy_points e"
        f" JOIN series s ON {series_match} AND s.out_area_code = '' AND s.psr_type = ''"
        " AND s.registered_resource = ''"
        " JOIN fetches f ON f.document_mrid = e.document_mrid AND f.fetched_at = e.fetched_at"
        f" AND f.revision_number = e.revision_number"
        f" AND f.document_created_at {same} e.document_created_at"
    )


def _calendar_ends(connection: sa.engine.Connection) -> None:
    """Day, week, month and year points get their end on the area's local calendar."""
    fixed = ", ".join(f"'{name}'" for name in FIXED_STEPS)
    series = connection.execute(
        sa.text(f"SELECT id, area_code, resolution FROM series WHERE resolution NOT IN ({fixed})")
    ).all()
    column = sa.column("timestamp", EpochSeconds)
    for series_id, area_code, resolution in series:
        zone = area_time_zone(area_code)
        starts = connection.execute(
            sa.select(column)
            .select_from(sa.table("points"))
            .where(sa.column("series_id") == series_id)
        ).scalars()
        updates = []
        for start in starts:
            try:
                end = step_end(start, resolution, zone)
            except ValueError:
                continue  # a resolution we cannot step: reads fall back to the start
            updates.append(
                {"end": _bind(connection, end), "id": series_id, "ts": _bind(connection, start)}
            )
        if updates:
            connection.execute(
                sa.text(
                    "UPDATE points SET interval_end = :end"
                    ' WHERE series_id = :id AND "timestamp" = :ts'
                ),
                updates,
            )


def _bind(connection: sa.engine.Connection, moment: object) -> object:
    if connection.dialect.name == "sqlite":
        return epoch_seconds(moment)  # type: ignore[arg-type]
    return moment


def upgrade() -> None:
    _create_tables()
    connection = op.get_bind()
    create_history_trigger(connection)
    before = connection.scalar(sa.text("SELECT count(*) FROM energy_points"))
    if before:
        connection.exec_driver_sql(_SERIES_FROM_V1)
        connection.exec_driver_sql(_FETCHES_FROM_V1)
        connection.exec_driver_sql(_points_from_v1(connection.dialect.name))
        _calendar_ends(connection)
        after = connection.scalar(sa.text("SELECT count(*) FROM points"))
        if after != before:
            raise RuntimeError(
                f"storage v2 migration moved {after} of {before} points; nothing was changed"
            )
    op.drop_table("energy_points")


def downgrade() -> None:
    """Back to one wide table holding the current values (the history is not kept)."""
    connection = op.get_bind()
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
    ts = (
        "strftime('%Y-%m-%d %H:%M:%S.000000', p.\"timestamp\", 'unixepoch')"
        if connection.dialect.name == "sqlite"
        else 'p."timestamp"'
    )
    connection.exec_driver_sql(
        "INSERT INTO energy_points SELECT s.area_code, s.data_type, s.business_type,"
        f" s.resolution, s.classification_sequence, {ts}, p.value, s.unit, s.curve_type,"
        " f.document_mrid, f.revision_number, f.document_created_at, f.fetched_at"
        " FROM points p JOIN series s ON s.id = p.series_id JOIN fetches f ON f.id = p.fetch_id"
    )
    drop_history_trigger(connection)
    op.drop_table("point_history")
    op.drop_table("points")
    op.drop_index("ix_fetches_document", table_name="fetches")
    op.drop_table("fetches")
    op.drop_table("series")
