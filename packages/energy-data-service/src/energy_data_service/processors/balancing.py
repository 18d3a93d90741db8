"""Balancing documents: imbalance prices and volumes, contracted reserves and their prices,
activated balancing energy prices (Balancing_MarketDocument).

Their series carry no domain: the area is the document's own (``controlArea_Domain`` /
``area_Domain``). Direction and reserve type stay in the business type.
"""

from __future__ import annotations

from datetime import datetime

from entsoe_client.models import MarketDocument

from energy_data_service.domain import EnergyPoint
from energy_data_service.processors._series import document_points
from energy_data_service.processors._units import series_unit

BALANCING_DOCUMENTS = ("A81", "A84", "A85", "A86", "A89")


def process_balancing_document(
    document: MarketDocument,
    fetched_at: datetime,
    *,
    data_type: str,
    area_code: str | None = None,
) -> list[EnergyPoint]:
    """Points of every series, under the document's area unless one is given."""
    return document_points(
        document,
        fetched_at,
        data_type=data_type,
        area_code=area_code or document.domain,
        unit_of=series_unit,
    )
