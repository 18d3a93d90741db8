"""The ``series`` catalogue: finding series by what a reader names, registering new ones.

Every read starts here: a request names an area and a data type (and maybe a resolution,
sequence, production type …); the catalogue answers with the matching series and their ids,
and the points are then read by ``series_id``, the leading column of their primary key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service_common import UtcDateTime
from sqlalchemy import Select, TextClause, bindparam, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from energy_data_service.db.tables import SERIES_IDENTITY, series

s = series.c


@dataclass(frozen=True, slots=True)
class SeriesRow:
    """One catalogue row: identity, description, bounds of what is stored."""

    id: int
    area_code: str
    data_type: str
    out_area_code: str
    psr_type: str
    business_type: str
    resolution: str
    classification_sequence: int
    registered_resource: str
    contract_type: str
    flow_direction: str
    price_category: str
    unit: str
    curve_type: str
    first_timestamp: datetime
    last_timestamp: datetime
    first_fetched_at: datetime
    last_fetched_at: datetime


_COLUMNS = [s[name] for name in SeriesRow.__slots__]


def catalogue_query(
    area_code: str | None = None, data_type: str | None = None, **identity: Any
) -> Select[Any]:
    """Catalogue rows, optionally for one area × data type and any identity column."""
    query = select(*_COLUMNS)
    if area_code is not None:
        query = query.where(s.area_code == area_code)
    if data_type is not None:
        query = query.where(s.data_type == data_type)
    for name, value in identity.items():
        if name not in SERIES_IDENTITY:
            raise ValueError(f"{name!r} is not part of a series' identity")
        if value is not None:
            query = query.where(s[name] == value)
    return query.order_by(*(s[name] for name in SERIES_IDENTITY))


async def find_series(
    connection: AsyncConnection,
    area_code: str | None = None,
    data_type: str | None = None,
    **identity: Any,
) -> list[SeriesRow]:
    """The catalogue rows matching (see ``catalogue_query``)."""
    result = await connection.execute(catalogue_query(area_code, data_type, **identity))
    return [SeriesRow(*row) for row in result]


_MIN = {"sqlite": "min", "postgresql": "LEAST"}
_MAX = {"sqlite": "max", "postgresql": "GREATEST"}


def register_statement(dialect: str) -> TextClause:
    """Insert a series or widen its bounds; returns its id either way (one round trip).

    Unit and curve type follow the most recently fetched document.
    """
    low, high = _MIN.get(dialect, "min"), _MAX.get(dialect, "max")
    columns: tuple[str, ...] = (*SERIES_IDENTITY, "unit", "curve_type", "first_timestamp")
    columns = (*columns, "last_timestamp")
    columns = (*columns, "first_fetched_at", "last_fetched_at")
    newer = "excluded.last_fetched_at >= series.last_fetched_at"
    statement = (
        f"INSERT INTO series ({', '.join(columns)}) VALUES "
        f"({', '.join(':' + c for c in columns)}) "
        f"ON CONFLICT ({', '.join(SERIES_IDENTITY)}) DO UPDATE SET "
        f"unit = CASE WHEN {newer} THEN excluded.unit ELSE series.unit END, "
        f"curve_type = CASE WHEN {newer} THEN excluded.curve_type ELSE series.curve_type END, "
        f"first_timestamp = {low}(series.first_timestamp, excluded.first_timestamp), "
        f"last_timestamp = {high}(series.last_timestamp, excluded.last_timestamp), "
        f"first_fetched_at = {low}(series.first_fetched_at, excluded.first_fetched_at), "
        f"last_fetched_at = {high}(series.last_fetched_at, excluded.last_fetched_at) "
        "RETURNING id"
    )
    times = [bindparam(c, type_=UtcDateTime) for c in columns if c.endswith(("_at", "stamp"))]
    return text(statement).bindparams(*times)
