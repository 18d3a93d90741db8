"""What an imported document must be before any of it is stored: honest about what it holds.

A file on disk can say anything: a price document retyped A65 would be stored as load (its
prices labelled MAW), a load document in EUR as load, points in year 1 or 9999 would poison
every range read, and a NaN or a revision beyond any integer column would fail deep inside the
store. ``refuse_dishonest`` checks the documents and the points made from them and raises
``DishonestDocumentError`` naming the document and the series, so the file is skipped whole.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from entsoe_client import MarketDocument

from energy_data_service.domain import EnergyPoint
from energy_data_service.errors import DishonestDocumentError

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
MAX_REVISION = 2**31 - 1
LOAD_DATA_TYPES = frozenset(
    {
        "actual_load",
        "day_ahead_forecast",
        "week_ahead_forecast",
        "month_ahead_forecast",
        "year_ahead_forecast",
        "forecast_margin",
    }
)
"""Quantities in MAW: a series with a currency is not one of these."""
PRICE_DATA_TYPES = frozenset(
    {
        "day_ahead_prices",
        "imbalance_prices",
        "contracted_reserve_prices",
        "activated_balancing_prices",
    }
)
"""Prices: a series without a currency is not one of these."""


def refuse_dishonest(documents: Sequence[MarketDocument], points: Iterable[EnergyPoint]) -> None:
    """Raise ``DishonestDocumentError`` for the first contradiction found."""
    points = points if isinstance(points, Sequence) else list(points)
    data_types = {point.document_mrid: point.data_type for point in points}
    for document in documents:
        if not 0 <= document.revision_number <= MAX_REVISION:
            raise DishonestDocumentError(
                f"document {document.mrid!r}: revisionNumber {document.revision_number} is out "
                f"of range (0 to {MAX_REVISION})"
            )
        data_type = data_types.get(document.mrid)
        for series in document.series:
            where = f"document {document.mrid!r} series {series.mrid!r}"
            if data_type in LOAD_DATA_TYPES and series.currency:
                raise DishonestDocumentError(
                    f"{where} holds prices ({series.currency}/{series.price_unit or 'MWH'}) but "
                    f"the document is typed {document.document_type} ({data_type})"
                )
            if data_type in PRICE_DATA_TYPES and not series.currency:
                raise DishonestDocumentError(
                    f"{where} holds quantities ({series.unit or 'no unit'}), not the prices "
                    f"its type {document.document_type} ({data_type}) promises"
                )
    for point in points:
        if not EARLIEST <= point.timestamp < LATEST:
            raise DishonestDocumentError(
                f"document {point.document_mrid!r} series {point.series_key}: a point at "
                f"{point.timestamp.isoformat()} is outside {EARLIEST.year}–{LATEST.year}"
            )
        if not math.isfinite(point.value) or (
            point.price is not None and not math.isfinite(point.price)
        ):
            raise DishonestDocumentError(
                f"document {point.document_mrid!r} series {point.series_key}: the value at "
                f"{point.timestamp.isoformat()} is not a finite number"
            )
