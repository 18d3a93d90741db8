"""A44 day-ahead prices: currency per unit (EUR/MWH), PT60M and PT15M series side by side.

DE_LU publishes two price sequences (``classificationSequence`` position 1 and 2); each is
its own series, keyed by that position.
"""

from __future__ import annotations

from datetime import datetime

from entsoe_client import MarketDocument, TimeSeries

from energy_data_service.domain import EnergyPoint
from energy_data_service.processors._series import document_points


def process_price_document(
    document: MarketDocument,
    fetched_at: datetime,
    *,
    data_type: str,
    area_code: str | None = None,
) -> list[EnergyPoint]:
    """Points of every price series, unit ``<currency>/<price unit>``."""
    return document_points(
        document, fetched_at, data_type=data_type, area_code=area_code, unit_of=_price_unit
    )


def _price_unit(series: TimeSeries) -> str:
    return f"{series.currency or 'EUR'}/{series.price_unit or 'MWH'}"
