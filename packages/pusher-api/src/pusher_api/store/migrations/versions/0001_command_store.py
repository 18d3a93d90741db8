"""The command store: commands, webhook deliveries, status offsets, and their triggers.

A store the pusher created before it had migrations (its tables there, no version row) is
completed in place rather than created: tables it lacks are created, columns it lacks (all
nullable) and indexes it lacks are added, and the triggers are (re)created. Every row is kept.
The same code on an empty database creates everything, so this revision is safe to run again
after a crash in the middle of it.

Revision ID: 0001_command_store
Revises:
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_command_store"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = sa.DateTime(timezone=True)

_metadata = sa.MetaData()

sa.Table(
    "commands",
    _metadata,
    sa.Column("request_id", sa.String(36), primary_key=True),
    sa.Column("idempotency_key", sa.String(300), nullable=True),
    sa.Column("device_id", sa.String(128), nullable=False),
    sa.Column("command_type", sa.String(128), nullable=False),
    sa.Column("protocol", sa.String(16), nullable=False),
    sa.Column("priority", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("detail", sa.Text, nullable=True),
    sa.Column("kafka_partition", sa.Integer, nullable=True),
    sa.Column("kafka_offset", sa.BigInteger, nullable=True),
    sa.Column("expires_at", _TIME, nullable=True),
    sa.Column("queued_at", _TIME, nullable=False),
    sa.Column("sent_at", _TIME, nullable=True),
    sa.Column("delivered_at", _TIME, nullable=True),
    sa.Column("finished_at", _TIME, nullable=True),
    sa.Column("not_before", _TIME, nullable=True),
    sa.Column("command_value", sa.LargeBinary, nullable=True),
    sa.Column("traceparent", sa.String(55), nullable=True),
    sa.Column("callback_url", sa.Text, nullable=True),
    sa.Column("callback_events", sa.String(8), nullable=True),
    sa.Column("idempotency_fingerprint", sa.String(64), nullable=True),
    sa.Column("cancel_requested_at", _TIME, nullable=True),
    sa.Index(
        "ux_commands_idempotency_key",
        "idempotency_key",
        unique=True,
        sqlite_where=sa.text("idempotency_key IS NOT NULL"),
        postgresql_where=sa.text("idempotency_key IS NOT NULL"),
    ),
    sa.Index(
        "ix_commands_expires_at",
        "expires_at",
        sqlite_where=sa.text("expires_at IS NOT NULL"),
        postgresql_where=sa.text("expires_at IS NOT NULL"),
    ),
    sa.Index(
        "ix_commands_scheduled",
        "not_before",
        sqlite_where=sa.text("status = 'scheduled'"),
        postgresql_where=sa.text("status = 'scheduled'"),
    ),
    sa.Index(
        "ix_commands_queued",
        "queued_at",
        sqlite_where=sa.text("status = 'queued'"),
        postgresql_where=sa.text("status = 'queued'"),
    ),
)

sa.Table(
    "webhook_deliveries",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("request_id", sa.String(36), nullable=False, index=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("created_at", _TIME, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", _TIME, nullable=True),
    sa.Column("delivered_at", _TIME, nullable=True),
    sa.Column("response_status", sa.Integer, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Index(
        "ix_webhook_deliveries_due",
        "next_attempt_at",
        sqlite_where=sa.text("next_attempt_at IS NOT NULL"),
        postgresql_where=sa.text("next_attempt_at IS NOT NULL"),
    ),
)

sa.Table(
    "status_offsets",
    _metadata,
    sa.Column("topic", sa.String(255), primary_key=True),
    sa.Column("partition", sa.Integer, primary_key=True),
    sa.Column("next_offset", sa.BigInteger, nullable=False),
)

_POSTED = (
    "NEW.callback_url IS NOT NULL AND NEW.status <> 'queued' "
    "AND (COALESCE(NEW.callback_events, 'all') = 'all' "
    "OR NEW.status IN ('cancelled', 'expired', 'failed', 'succeeded'))"
)
"""Which changes are POSTed: every one but `queued` (it lasts until the broker answers), or
only the final ones with `callback_events` = `final`."""

_SQLITE_OUTBOX_ROW = """
        INSERT INTO webhook_deliveries (request_id, status, url, created_at, attempts,
                                        next_attempt_at)
        VALUES (NEW.request_id, NEW.status, NEW.callback_url,
                strftime('%Y-%m-%d %H:%M:%f', 'now'), 0, strftime('%Y-%m-%d %H:%M:%f', 'now'));"""

_SQLITE_TRIGGERS = (
    "DROP TRIGGER IF EXISTS commands_webhook_on_insert",
    "DROP TRIGGER IF EXISTS commands_webhook_on_update",
    f"""CREATE TRIGGER commands_webhook_on_insert AFTER INSERT ON commands
    WHEN {_POSTED}
    BEGIN{_SQLITE_OUTBOX_ROW}
    END""",
    f"""CREATE TRIGGER commands_webhook_on_update AFTER UPDATE OF status ON commands
    WHEN NEW.status <> OLD.status AND {_POSTED}
    BEGIN{_SQLITE_OUTBOX_ROW}
    END""",
)
"""On SQLite, where one process owns the file, the writing code announces changes; the
triggers only write the webhook outbox."""

_POSTGRES_TRIGGERS = (
    f"""CREATE OR REPLACE FUNCTION pusher_webhook_outbox() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF (TG_OP = 'INSERT' OR NEW.status IS DISTINCT FROM OLD.status)
           AND {_POSTED} THEN
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
    # Changes per NOTIFY: 40 lines of at most ~180 bytes stay under the 8,000-byte payload.
    """CREATE OR REPLACE FUNCTION pusher_notify_changes() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        chunk text;
    BEGIN
        FOR chunk IN
            SELECT string_agg(request_id || ' ' || device_id || ' ' || status, E'\\n')
            FROM (SELECT request_id, device_id, status,
                         (row_number() OVER ()) / 40 AS n FROM changed) AS numbered
            GROUP BY n
        LOOP
            PERFORM pg_notify('pusher_changes', chunk);
        END LOOP;
        RETURN NULL;
    END $$""",
    """CREATE OR REPLACE TRIGGER commands_notify_on_insert AFTER INSERT ON commands
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION pusher_notify_changes()""",
    """CREATE OR REPLACE TRIGGER commands_notify_on_update AFTER UPDATE ON commands
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION pusher_notify_changes()""",
)
"""On PostgreSQL a statement trigger NOTIFYs `pusher_changes` (every replica hears every
committed change), and a row trigger writes the webhook outbox."""


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    for table in _metadata.sorted_tables:
        if not inspector.has_table(table.name):
            table.create(bind)
            continue
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in present:
                op.add_column(table.name, sa.Column(column.name, column.type, nullable=True))
        indexed = {index["name"] for index in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in indexed:
                index.create(bind)
    triggers = _POSTGRES_TRIGGERS if bind.dialect.name == "postgresql" else _SQLITE_TRIGGERS
    for statement in triggers:
        bind.exec_driver_sql(statement)


def downgrade() -> None:
    bind = op.get_bind()
    postgresql = bind.dialect.name == "postgresql"
    for trigger in _TRIGGER_NAMES:
        bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger}" + (" ON commands" * postgresql))
    if postgresql:
        bind.exec_driver_sql("DROP FUNCTION IF EXISTS pusher_webhook_outbox()")
        bind.exec_driver_sql("DROP FUNCTION IF EXISTS pusher_notify_changes()")
    for table in reversed(_metadata.sorted_tables):
        table.drop(bind, checkfirst=True)


_TRIGGER_NAMES = (
    "commands_webhook_on_insert",
    "commands_webhook_on_update",
    "commands_notify_on_insert",
    "commands_notify_on_update",
)
