"""A44 day-ahead prices: currency per unit (EUR/MWH), PT60M and PT15M series side by side.

DE_LU publishes two price sequences (``classificationSequence`` position 1 and 2); each is
its own series, keyed by that position.
"""

from __future__ import annotations

from datetime import datetime

from entsoe_client.models import MarketDocument

from energy_data_service.domain import EnergyPoint
from energy_data_service.processors._series import series_area, series_points


def process_price_document(
    document: MarketDocument,
    fetched_at: datetime,
    *,
    data_type: str,
    area_code: str | None = None,
) -> list[EnergyPoint]:
    """Points of every price series, unit ``<currency>/<price unit>``."""
    points: list[EnergyPoint] = []
    for series in document.series:
        area = area_code or series_area(series)
        if area is None:
            continue
        unit = f"{series.currency or 'EUR'}/{series.price_unit or 'MWH'}"
        points.extend(
            series_points(
                document,
                series,
                data_type=data_type,
                area_code=area,
                unit=unit,
                fetched_at=fetched_at,
            )
        )
    return points
