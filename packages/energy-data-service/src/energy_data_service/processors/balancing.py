"""Balancing documents: imbalance prices and volumes, contracted reserves and their prices,
activated balancing energy prices (Balancing_MarketDocument).

Their series carry no domain: the area is the document's own (``controlArea_Domain`` /
``area_Domain``). Up- and down-regulation (``flowDirection.direction`` A01/A02) of the same
business type are two series: the direction goes into the series' identity through its
resource slot (``registered_resource`` = ``direction:A01``), which balancing series do not use
otherwise; readers turn it back into the ``flow_direction`` column (``series_domains``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from entsoe_client import MarketDocument

from energy_data_service.domain import EnergyPoint
from energy_data_service.processors._series import document_points
from energy_data_service.processors._units import series_unit
from energy_data_service.series_domains import direction_resource

BALANCING_DOCUMENTS = ("A81", "A84", "A85", "A86", "A89")


def process_balancing_document(
    document: MarketDocument,
    fetched_at: datetime,
    *,
    data_type: str,
    area_code: str | None = None,
) -> list[EnergyPoint]:
    """Points of every series, under the document's area unless one is given."""
    series = [
        replace(s, registered_resource=direction_resource(s.flow_direction))
        if s.flow_direction and not s.registered_resource
        else s
        for s in document.series
    ]
    document = replace(document, series=series)
    return document_points(
        document,
        fetched_at,
        data_type=data_type,
        area_code=area_code or document.domain,
        unit_of=series_unit,
    )
