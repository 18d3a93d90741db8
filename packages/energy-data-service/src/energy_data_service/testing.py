"""What the service's tests and benchmarks build on, shipped with it (as httpx ships its mocks).

A store of the first storage layout (v1): migrations up to ``0003_monitoring`` and its one
table of points, ``energy_points``, one row per (area, data type, start, business type,
resolution, sequence) holding the provenance of the document that brought it. The migration
tests migrate such a store to the current layout; ``bench/store_size.py`` measures its size
beside the current one.
"""

from __future__ import annotations

from typing import Any

from service_common import UtcDateTime
from sqlalchemy import Column, Float, Integer, MetaData, PrimaryKeyConstraint, String, Table
from sqlalchemy.ext.asyncio import AsyncEngine

from energy_data_service.db.migrate import upgrade

V1_REVISION = "0003_monitoring"
"""The last revision of the v1 layout."""

v1_metadata = MetaData()
energy_points_v1 = Table(
    "energy_points",
    v1_metadata,
    Column("area_code", String(32), nullable=False),
    Column("data_type", String(32), nullable=False),
    Column("business_type", String(8), nullable=False),
    Column("resolution", String(8), nullable=False),
    Column("classification_sequence", Integer, nullable=False),
    Column("timestamp", UtcDateTime, nullable=False),
    Column("value", Float(precision=53), nullable=False),
    Column("unit", String(16), nullable=False),
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
    ),
    sqlite_with_rowid=False,
)
"""``energy_points`` as migration ``0001_storage`` creates it (the migrations create it here)."""

V1_COLUMNS = [column.name for column in energy_points_v1.columns]


def v1_row(point: Any) -> dict[str, Any]:
    """The v1 row of an `EnergyPoint` (v1 had no price, end, border or resource columns)."""
    return {column: getattr(point, column) for column in V1_COLUMNS}


async def v1_store(engine: AsyncEngine, rows: list[dict[str, Any]] | None = None) -> None:
    """Make the database behind ``engine`` a v1 store, holding ``rows`` when given."""
    await upgrade(engine, V1_REVISION)
    if rows:
        async with engine.begin() as connection:
            await connection.execute(energy_points_v1.insert(), rows)
