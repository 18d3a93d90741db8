"""A65 (actual load, load forecasts) and A70 (forecast margin): quantities in MAW."""

from __future__ import annotations

from datetime import datetime

from entsoe_client.models import MarketDocument

from energy_data_service.domain import EnergyPoint
from energy_data_service.processors._series import series_area, series_points


def process_load_document(
    document: MarketDocument,
    fetched_at: datetime,
    *,
    data_type: str,
    area_code: str | None = None,
) -> list[EnergyPoint]:
    """Points of every series; the unit is the series' measure unit (MAW on the platform)."""
    points: list[EnergyPoint] = []
    for series in document.series:
        area = area_code or series_area(series)
        if area is None:
            continue
        points.extend(
            series_points(
                document,
                series,
                data_type=data_type,
                area_code=area,
                unit=series.unit or "MAW",
                fetched_at=fetched_at,
            )
        )
    return points
