"""Tables of the service (SQLAlchemy Core). Migrations under ``db/migrations`` create them.

Every timestamp column is ``UtcDateTime``: aware UTC in Python on both backends. PostgreSQL
stores ``timestamptz``; SQLite stores the naive UTC text SQLAlchemy writes
(``YYYY-MM-DD HH:MM:SS.ffffff``), which sorts and compares correctly as text.

``energy_points`` is keyed (area, data type, timestamp, business type, resolution, sequence):
series of different resolution, business type or price sequence never overwrite each other,
and the key's leading columns serve every (area, data type, time range) read, so no second
index has to be maintained on ingest. On SQLite the table is ``WITHOUT ROWID`` (clustered on
that key): one B-tree per write instead of two, and range reads are sequential.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

metadata = MetaData()


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out; a naive datetime is a bug and is refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: timestamps must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # raw SQLite text (e.g. from an aggregate)
            value = datetime.fromisoformat(value)
        moment: datetime = value
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)


def sqlite_timestamp(value: datetime) -> str:
    """The text SQLite stores for ``value`` (what ``UtcDateTime`` writes), for raw bulk paths."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


energy_points = Table(
    "energy_points",
    metadata,
    Column("area_code", String(32), nullable=False, comment="EIC code of the area"),
    Column("data_type", String(32), nullable=False, comment="actual_load, day_ahead_prices, …"),
    Column("business_type", String(8), nullable=False, comment="A04, A62, … ('' if absent)"),
    Column("resolution", String(8), nullable=False, comment="ISO 8601 duration, e.g. PT15M"),
    Column("classification_sequence", Integer, nullable=False, comment="0 when absent"),
    Column("timestamp", UtcDateTime, nullable=False, comment="interval start, UTC"),
    Column("value", Float(precision=53), nullable=False),
    Column("unit", String(16), nullable=False, comment="MAW, or currency/unit like EUR/MWH"),
    Column("curve_type", String(4), nullable=False),
    Column("document_mrid", String(64), nullable=False),
    Column("revision_number", Integer, nullable=False),
    Column("document_created_at", UtcDateTime, nullable=True),
    Column("fetched_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint(
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

backfill_jobs = Table(
    "backfill_jobs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("areas", JSON, nullable=False, comment="list of EIC codes"),
    Column("data_types", JSON, nullable=False, comment="list of data type names"),
    Column("start", UtcDateTime, nullable=False),
    Column("end", UtcDateTime, nullable=False),
    Column("status", String(16), nullable=False, comment="running|done|failed|cancelled"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=True),
    Column("cancelled", Boolean, nullable=False, default=False),
    Column("error", Text, nullable=True),
)

backfill_progress = Table(
    "backfill_progress",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("job_id", Integer, ForeignKey("backfill_jobs.id", ondelete="SET NULL"), nullable=True),
    Column("area_code", String(32), nullable=False),
    Column("data_type", String(32), nullable=False),
    Column("chunk_start", UtcDateTime, nullable=False),
    Column("chunk_end", UtcDateTime, nullable=False),
    Column("status", String(16), nullable=False, comment="pending|done|failed"),
    Column("points", Integer, nullable=False, default=0),
    Column("attempts", Integer, nullable=False, default=0),
    Column("error", Text, nullable=True),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint(
        "area_code", "data_type", "chunk_start", "chunk_end", name="uq_backfill_progress_chunk"
    ),
)

collection_runs = Table(
    "collection_runs",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("run_kind", String(16), nullable=False, comment="collect|gap_fill|backfill|import|…"),
    Column("area_code", String(32), nullable=False),
    Column("data_type", String(32), nullable=False),
    Column("window_start", UtcDateTime, nullable=True),
    Column("window_end", UtcDateTime, nullable=True),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=False),
    Column("points", Integer, nullable=False),
    Column("success", Boolean, nullable=False),
    Column("error_class", String(64), nullable=True),
    Column("error_text", Text, nullable=True),
    Column("platform_response_ms", Float, nullable=True),
    Column("processing_ms", Float, nullable=True),
    Index("ix_collection_runs_area_type_started", "area_code", "data_type", "started_at"),
)

job_executions = Table(
    "job_executions",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("job_id", String(64), nullable=False, comment="realtime_collection, forecasts, …"),
    Column("trigger", String(16), nullable=False, comment="schedule|catch_up|manual"),
    Column("attempt", Integer, nullable=False, comment="1 for the first try, 2+ for retries"),
    Column("instance", String(128), nullable=False, comment="host:pid of the replica that ran it"),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=True),
    Column("outcome", String(16), nullable=False, comment="running|success|failed|cancelled"),
    Column("points", Integer, nullable=True),
    Column("error_class", String(64), nullable=True),
    Column("error", Text, nullable=True),
    Index("ix_job_executions_job_started", "job_id", "started_at"),
)
