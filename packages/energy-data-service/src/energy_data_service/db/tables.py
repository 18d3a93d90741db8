"""Tables of the service (SQLAlchemy Core). Migrations under ``db/migrations`` create them.

Every timestamp column is ``UtcDateTime``: aware UTC in Python on both backends. PostgreSQL
stores ``timestamptz``; SQLite stores the naive UTC text SQLAlchemy writes
(``YYYY-MM-DD HH:MM:SS.ffffff``), which sorts and compares correctly as text.

Storage v2 (``0004_storage_v2``):

- ``series`` is the catalogue: one row per distinct series (``SERIES_IDENTITY``) with its unit,
  curve type, first/last interval start and first/last fetch. Readers find a series here and
  then read its points by ``series_id``.
- ``fetches`` holds what repeats for a whole document (mRID, revision, createdDateTime, fetch
  time) once per document and fetch; a point refers to it by ``fetch_id``.
- ``points`` holds the current value of each (series, interval start): value, price, the
  fetch of the newest document stating it (its version: revision, createdDateTime, fetch time
  decide which document wins) and ``known_from``, when we first stored that value. On SQLite
  the table is ``WITHOUT ROWID`` and times are integer seconds: about 25 bytes a point.
- ``point_history`` keeps every replaced value with the span ``[known_from, known_until)`` in
  which it was the stored one; a trigger on ``points`` writes it (``db/history.py``),
  so no writer can replace a value without keeping the old one. A version that was already
  superseded when it was learned (it lost on arrival) is kept with an empty span; the key
  includes ``fetch_id`` so it can sit beside its successor's span (``0006_history_keys``).

``interval_end`` is stored only where a point does not end at start + its fixed step (day,
week, month and year points on the local calendar); reads use it for those and ``timestamp`` +
step for the rest, so the overlap rule is exact without spending 8 bytes on every point.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from service_common import UtcDateTime
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

SERIES_IDENTITY = (
    "area_code",
    "data_type",
    "out_area_code",
    "psr_type",
    "business_type",
    "resolution",
    "classification_sequence",
    "registered_resource",
    "contract_type",
    "flow_direction",
    "price_category",
)
"""What makes a series one series (``uq_series_identity``); every other column describes it.

``contract_type`` (``contract_MarketAgreement.type``: A01 day-ahead, A02 week, A03 month, A04
year, A05 total, A07 intraday) tells the horizons of one border's exchanges and transfer
capacities apart; ``flow_direction`` (A01 up, A02 down) the two directions of balancing series;
``price_category`` (``imbalance_Price.category``: A04 excess balance / long, A05 insufficient
balance / short) the two imbalance prices of one quarter-hour (``0007_series_qualifiers``)."""

QUALIFIERS = ("contract_type", "flow_direction", "price_category")
"""The identity columns added by ``0007``: codes of the platform, '' when a series has none."""


class EpochSeconds(TypeDecorator[datetime]):
    """Aware UTC datetimes stored compactly: SQLite keeps integer seconds since the epoch (4 to
    6 bytes in a record instead of 26 of text), PostgreSQL a ``timestamptz`` (8 bytes, what
    TimescaleDB partitions on).

    Stored instants are whole seconds (interval starts; ``known_from`` is rounded up before it
    is written); a bound with a fraction binds as a real number on SQLite, so comparisons stay
    exact.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: timestamps must be timezone-aware")
        if dialect.name == "sqlite":
            return epoch_seconds(value)
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, int | float):
            return from_epoch(value)
        moment: datetime = value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_seconds(value: datetime) -> int | float:
    """Seconds since the epoch: an int for a whole second, else a float (a query bound)."""
    delta = value - _EPOCH
    seconds = delta.days * 86_400 + delta.seconds
    return seconds if not delta.microseconds else seconds + delta.microseconds / 1_000_000


def from_epoch(value: float) -> datetime:
    """The aware UTC datetime of ``value`` seconds since the epoch."""
    return datetime.fromtimestamp(value, UTC)


series = Table(
    "series",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("data_type", String(48), nullable=False, comment="actual_load, day_ahead_prices, …"),
    Column("area_code", String(32), nullable=False, comment="EIC of the area (in_Domain)"),
    Column("out_area_code", String(32), nullable=False, comment="EIC energy comes from, or ''"),
    Column("psr_type", String(8), nullable=False, comment="production type B01… or ''"),
    Column("business_type", String(8), nullable=False, comment="A04, A62, … or ''"),
    Column("resolution", String(8), nullable=False, comment="ISO 8601 duration, e.g. PT15M"),
    Column("classification_sequence", Integer, nullable=False, comment="0 when absent"),
    Column("registered_resource", String(64), nullable=False, comment="unit/resource or ''"),
    Column("contract_type", String(4), nullable=False, server_default="", comment="A01…A07 or ''"),
    Column("flow_direction", String(4), nullable=False, server_default="", comment="A01/A02 or ''"),
    Column("price_category", String(4), nullable=False, server_default="", comment="A04/A05 or ''"),
    Column("unit", String(16), nullable=False, comment="MAW, or currency/unit like EUR/MWH"),
    Column("curve_type", String(4), nullable=False, comment="A01/A03 of the latest document"),
    Column("first_timestamp", UtcDateTime, nullable=False, comment="first stored interval start"),
    Column("last_timestamp", UtcDateTime, nullable=False, comment="last stored interval start"),
    Column("first_fetched_at", UtcDateTime, nullable=False),
    Column("last_fetched_at", UtcDateTime, nullable=False),
    UniqueConstraint(*SERIES_IDENTITY, name="uq_series_identity"),
)

fetches = Table(
    "fetches",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("document_mrid", String(64), nullable=False),
    Column("revision_number", Integer, nullable=False),
    Column("document_created_at", UtcDateTime, nullable=True),
    Column("fetched_at", UtcDateTime, nullable=False, comment="when we received the document"),
    Index("ix_fetches_document", "document_mrid", "fetched_at"),
)

points = Table(
    "points",
    metadata,
    Column("series_id", Integer, nullable=False),
    Column("timestamp", EpochSeconds, nullable=False, comment="interval start"),
    Column("value", Float(precision=53), nullable=False, comment="quantity, or the price alone"),
    Column("price", Float(precision=53), nullable=True, comment="price beside a quantity"),
    Column("interval_end", EpochSeconds, nullable=True, comment="end when not start + step"),
    Column("fetch_id", Integer, nullable=False, comment="newest document stating this value"),
    Column("known_from", EpochSeconds, nullable=False, comment="first stored (fetch time)"),
    PrimaryKeyConstraint("series_id", "timestamp", name="pk_points"),
    sqlite_with_rowid=False,
)

point_history = Table(
    "point_history",
    metadata,
    Column("series_id", Integer, nullable=False),
    Column("timestamp", EpochSeconds, nullable=False),
    Column("known_from", EpochSeconds, nullable=False),
    Column("known_until", EpochSeconds, nullable=False, comment="when a newer value replaced it"),
    Column("value", Float(precision=53), nullable=False),
    Column("price", Float(precision=53), nullable=True),
    Column("interval_end", EpochSeconds, nullable=True),
    Column("fetch_id", Integer, nullable=False),
    PrimaryKeyConstraint(
        "series_id", "timestamp", "known_from", "fetch_id", name="pk_point_history"
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
    Column(
        "status", String(16), nullable=False, comment="running|done|failed|cancelled|interrupted"
    ),
    Column("created_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=True),
    Column("cancelled", Boolean, nullable=False, default=False),
    Column("error", Text, nullable=True),
    Column("owner", String(128), nullable=True, comment="host:pid working on it"),
    Column("lease_until", UtcDateTime, nullable=True, comment="running only until then"),
    Column("borders", JSON, nullable=True, comment="[[area, out_area], …] of directional types"),
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
    Column("out_area_code", String(32), nullable=False, server_default="", comment="or ''"),
    UniqueConstraint(
        "area_code",
        "out_area_code",
        "data_type",
        "chunk_start",
        "chunk_end",
        name="uq_backfill_progress_chunk",
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
    Column("fencing_token", String(64), nullable=True, comment="leader term:backend pid"),
    Index("ix_job_executions_job_started", "job_id", "started_at"),
)

leader_terms = Table(
    "leader_terms",
    metadata,
    Column("term", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("instance", String(128), nullable=False, comment="host:pid of the elected replica"),
    Column("backend_pid", Integer, nullable=True, comment="its lock session's backend pid"),
    Column("elected_at", UtcDateTime, nullable=False),
)
