"""The pusher's tables, and the triggers that announce and outbox their changes.

`commands` holds one row per command, `webhook_deliveries` one row per status change to POST,
`status_offsets` where the status consumer resumes. The triggers: on PostgreSQL a statement
trigger NOTIFYs `pusher_changes` (so every replica hears every change, committed); on both, a
row trigger writes a `webhook_deliveries` row for every change of a command with a callback, in
the transaction of the change.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    inspect,
    text,
)
from sqlalchemy.types import TypeDecorator

from pusher_api.messages import FINAL_STATUSES


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored in UTC and always read back timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData()

commands = Table(
    "commands",
    metadata,
    Column("request_id", String(36), primary_key=True),
    Column("idempotency_key", String(300), nullable=True),
    Column("device_id", String(128), nullable=False),
    Column("command_type", String(128), nullable=False),
    Column("protocol", String(16), nullable=False),
    Column("priority", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("detail", Text, nullable=True),
    Column("kafka_partition", Integer, nullable=True),
    Column("kafka_offset", BigInteger, nullable=True),
    Column("expires_at", UTCDateTime, nullable=True),
    Column("queued_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime, nullable=True),
    Column("delivered_at", UTCDateTime, nullable=True),
    Column("finished_at", UTCDateTime, nullable=True),
    # Added in the second version (nullable: `open` adds them to older stores).
    Column("not_before", UTCDateTime, nullable=True),
    Column("command_value", LargeBinary, nullable=True),  # record value, while scheduled
    Column("traceparent", String(55), nullable=True),
    Column("callback_url", Text, nullable=True),
    Column("callback_events", String(8), nullable=True),
    Column("idempotency_fingerprint", String(64), nullable=True),
    Column("cancel_requested_at", UTCDateTime, nullable=True),
    # Partial indexes: most commands have neither key nor expiry, and every index entry costs
    # time on the hot insert path.
    Index(
        "ux_commands_idempotency_key",
        "idempotency_key",
        unique=True,
        sqlite_where=text("idempotency_key IS NOT NULL"),
        postgresql_where=text("idempotency_key IS NOT NULL"),
    ),
    Index(
        "ix_commands_expires_at",
        "expires_at",
        sqlite_where=text("expires_at IS NOT NULL"),
        postgresql_where=text("expires_at IS NOT NULL"),
    ),
    Index(
        "ix_commands_scheduled",
        "not_before",
        sqlite_where=text("status = 'scheduled'"),
        postgresql_where=text("status = 'scheduled'"),
    ),
    Index(
        "ix_commands_queued",
        "queued_at",
        sqlite_where=text("status = 'queued'"),
        postgresql_where=text("status = 'queued'"),
    ),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", String(36), nullable=False, index=True),
    Column("status", String(16), nullable=False),
    Column("url", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=True),  # NULL once done (delivered or given up)
    Column("delivered_at", UTCDateTime, nullable=True),
    Column("response_status", Integer, nullable=True),
    Column("last_error", Text, nullable=True),
    Index(
        "ix_webhook_deliveries_due",
        "next_attempt_at",
        sqlite_where=text("next_attempt_at IS NOT NULL"),
        postgresql_where=text("next_attempt_at IS NOT NULL"),
    ),
)
"""One row per status change to POST to a command's callback: written by a trigger in the
transaction of the change, claimed and sent by the webhook sender of any replica."""

status_offsets = Table(
    "status_offsets",
    metadata,
    Column("topic", String(255), primary_key=True),
    Column("partition", Integer, primary_key=True),
    Column("next_offset", BigInteger, nullable=False),
)
"""Where the status consumer resumes, per partition; written in the same transaction as the
transitions it applied, so a crash neither loses nor double-counts a report."""

_FINAL_VALUES = tuple(sorted(status.value for status in FINAL_STATUSES))

_WEBHOOK_TRIGGER_WHEN = (
    "NEW.callback_url IS NOT NULL AND NEW.status <> 'queued' "
    "AND (COALESCE(NEW.callback_events, 'all') = 'all' "
    f"OR NEW.status IN ({', '.join(repr(v) for v in _FINAL_VALUES)}))"
)
"""Which changes are POSTed: every one but `queued` (it lasts until the broker answers), or
only the final ones with `callback_events` = `final`."""

SQLITE_TRIGGERS = (
    "DROP TRIGGER IF EXISTS commands_webhook_on_insert",
    "DROP TRIGGER IF EXISTS commands_webhook_on_update",
    f"""CREATE TRIGGER commands_webhook_on_insert AFTER INSERT ON commands
    WHEN {_WEBHOOK_TRIGGER_WHEN}
    BEGIN
        INSERT INTO webhook_deliveries (request_id, status, url, created_at, attempts,
                                        next_attempt_at)
        VALUES (NEW.request_id, NEW.status, NEW.callback_url,
                strftime('%Y-%m-%d %H:%M:%f', 'now'), 0, strftime('%Y-%m-%d %H:%M:%f', 'now'));
    END""",
    f"""CREATE TRIGGER commands_webhook_on_update AFTER UPDATE OF status ON commands
    WHEN NEW.status <> OLD.status AND {_WEBHOOK_TRIGGER_WHEN}
    BEGIN
        INSERT INTO webhook_deliveries (request_id, status, url, created_at, attempts,
                                        next_attempt_at)
        VALUES (NEW.request_id, NEW.status, NEW.callback_url,
                strftime('%Y-%m-%d %H:%M:%f', 'now'), 0, strftime('%Y-%m-%d %H:%M:%f', 'now'));
    END""",
)

CHANGES_CHANNEL = "pusher_changes"
_NOTIFY_ROWS = 40
"""Changes per NOTIFY: 40 lines of at most ~180 bytes stay under PostgreSQL's 8,000-byte payload."""

POSTGRES_TRIGGERS = (
    f"""CREATE OR REPLACE FUNCTION pusher_webhook_outbox() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF (TG_OP = 'INSERT' OR NEW.status IS DISTINCT FROM OLD.status)
           AND {_WEBHOOK_TRIGGER_WHEN} THEN
            INSERT INTO webhook_deliveries (request_id, status, url, created_at, attempts,
                                            next_attempt_at)
            VALUES (NEW.request_id, NEW.status, NEW.callback_url, now(), 0, now());
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE OR REPLACE TRIGGER commands_webhook_on_insert AFTER INSERT ON commands
    FOR EACH ROW WHEN (NEW.callback_url IS NOT NULL) EXECUTE FUNCTION pusher_webhook_outbox()""",
    """CREATE OR REPLACE TRIGGER commands_webhook_on_update AFTER UPDATE OF status ON commands
    FOR EACH ROW WHEN (NEW.callback_url IS NOT NULL) EXECUTE FUNCTION pusher_webhook_outbox()""",
    f"""CREATE OR REPLACE FUNCTION pusher_notify_changes() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        chunk text;
    BEGIN
        FOR chunk IN
            SELECT string_agg(request_id || ' ' || device_id || ' ' || status, E'\n')
            FROM (SELECT request_id, device_id, status,
                         (row_number() OVER ()) / {_NOTIFY_ROWS} AS n FROM changed) AS numbered
            GROUP BY n
        LOOP
            PERFORM pg_notify('{CHANGES_CHANNEL}', chunk);
        END LOOP;
        RETURN NULL;
    END $$""",
    """CREATE OR REPLACE TRIGGER commands_notify_on_insert AFTER INSERT ON commands
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION pusher_notify_changes()""",
    """CREATE OR REPLACE TRIGGER commands_notify_on_update AFTER UPDATE ON commands
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION pusher_notify_changes()""",
)


def add_missing_columns(connection: Any) -> None:
    """Add the columns a store from an older version lacks (all nullable), so upgrading needs
    no migration step."""
    inspector = inspect(connection)
    preparer = connection.dialect.identifier_preparer
    for table in metadata.sorted_tables:
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in present:
                kind = column.type.compile(dialect=connection.dialect)
                connection.exec_driver_sql(
                    f"ALTER TABLE {preparer.quote(table.name)} "
                    f"ADD COLUMN {preparer.quote(column.name)} {kind}"
                )
