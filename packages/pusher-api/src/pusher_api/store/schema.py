"""The pusher's tables, as the queries see them.

`commands` holds one row per command, `webhook_deliveries` one row per status change to POST,
`status_offsets` where the status consumer resumes. The database gets them, and the triggers
that announce and outbox their changes, from the Alembic migrations under `migrations/` (on
PostgreSQL a statement trigger NOTIFYs `pusher_changes`, so every replica hears every committed
change; on both, a row trigger writes a `webhook_deliveries` row for every change of a command
with a callback, in the transaction of the change). A change here needs a new revision there.
"""

from __future__ import annotations

from service_common import UtcDateTime
from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    text,
)

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
    Column("expires_at", UtcDateTime, nullable=True),
    Column("queued_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime, nullable=True),
    Column("delivered_at", UtcDateTime, nullable=True),
    Column("finished_at", UtcDateTime, nullable=True),
    # Nullable: stores made by older versions lack them, and migration 0001 adds them.
    Column("not_before", UtcDateTime, nullable=True),
    Column("command_value", LargeBinary, nullable=True),  # record value, while scheduled
    Column("traceparent", String(55), nullable=True),
    Column("callback_url", Text, nullable=True),
    Column("callback_events", String(8), nullable=True),
    Column("idempotency_fingerprint", String(64), nullable=True),
    Column("cancel_requested_at", UtcDateTime, nullable=True),
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
    Column("created_at", UtcDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime, nullable=True),  # NULL once done (delivered or given up)
    Column("delivered_at", UtcDateTime, nullable=True),
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

CHANGES_CHANNEL = "pusher_changes"
"""The channel PostgreSQL's change trigger NOTIFYs (migration 0001 creates the trigger)."""

VERSION_TABLE = "pusher_alembic_version"
"""Where Alembic keeps the store's revision: a name of its own, so the pusher and the energy
data service can share one database."""
