"""Transmission and market documents: flows, exchanges, transfer and offered capacities, net
positions (Publication_MarketDocument).

These are directional: a series is stored under its ``in_Domain`` (where the energy goes) with
its ``out_Domain`` (where it comes from) as ``out_area_code``, signed as the platform means it
(a flow is never negative; the other direction is its own series). Allocation documents (A25)
hold more than net positions: only net positions (business type B09) belong to the catalogue,
other series (explicit allocations, congestion income) are left out.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from entsoe_client import MarketDocument

from energy_data_service.domain import EnergyPoint
from energy_data_service.errors import NoCatalogueSeriesError
from energy_data_service.processors._series import document_points
from energy_data_service.processors._units import series_unit

TRANSMISSION_DOCUMENTS = ("A09", "A11", "A25", "A31", "A61")
NET_POSITION = "B09"


def process_transmission_document(
    document: MarketDocument,
    fetched_at: datetime,
    *,
    data_type: str,
    area_code: str | None = None,
) -> list[EnergyPoint]:
    """Points of every series (of A25 allocation documents: the net positions only)."""
    if document.document_type == "A25":
        kept = [s for s in document.series if s.business_type == NET_POSITION]
        if not kept and document.series:
            kinds = sorted({s.business_type or "?" for s in document.series})
            raise NoCatalogueSeriesError(
                f"document {document.mrid!r} (A25) holds business types {', '.join(kinds)}: "
                "explicit allocations and congestion income are not in the catalogue, only net "
                "positions (B09)"
            )
        document = replace(document, series=kept)
    return document_points(
        document, fetched_at, data_type=data_type, area_code=area_code, unit_of=series_unit
    )
