"""A65 (actual load, load forecasts) and A70 (forecast margin): quantities in MAW."""

from __future__ import annotations

from datetime import datetime

from entsoe_client import MarketDocument, TimeSeries

from energy_data_service.domain import EnergyPoint
from energy_data_service.processors._series import document_points


def process_load_document(
    document: MarketDocument,
    fetched_at: datetime,
    *,
    data_type: str,
    area_code: str | None = None,
) -> list[EnergyPoint]:
    """Points of every series; the unit is the series' measure unit (MAW on the platform)."""
    return document_points(
        document, fetched_at, data_type=data_type, area_code=area_code, unit_of=_load_unit
    )


def _load_unit(series: TimeSeries) -> str:
    return series.unit or "MAW"
