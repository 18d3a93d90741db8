"""Transmission and market documents: flows, exchanges, transfer and offered capacities, net
positions (Publication_MarketDocument).

These are directional: a series is stored under its ``in_Domain`` (where the energy goes) with
its ``out_Domain`` (where it comes from) as ``out_area_code``, signed as the platform means it
(a flow is never negative; the other direction is its own series). Allocation documents (A25)
hold more than net positions: only net positions (business type B09) belong to the catalogue,
other series (explicit allocations, congestion income) are left out.

Scheduled exchanges and transfer capacities are published per horizon (contract type: A01
day-ahead, A02 week, A03 month, A04 year, A05 total); each horizon of a border is its own series
(``contract_type`` in the identity). The series' own ``contract_MarketAgreement.type`` names it;
the client stamps the horizon it asked for on series that state none. A transfer-capacity
document imported without either (the platform's A61 answers state none) is told by its shape:
sub-day points are day-ahead, monthly or yearly points year-ahead, daily points week-ahead when
the document covers at most 8 days, else month-ahead.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from entsoe_client import PLATFORM_TABLE, DataType, MarketDocument, TimeSeries

from energy_data_service.domain import EnergyPoint
from energy_data_service.errors import NoCatalogueSeriesError
from energy_data_service.processors._series import Qualifiers, document_points
from energy_data_service.processors._units import series_unit

TRANSMISSION_DOCUMENTS = ("A09", "A11", "A25", "A31", "A61")
NET_POSITION = "B09"
CONTRACT_TYPED = frozenset({"scheduled_exchanges", "net_transfer_capacity"})
"""Data types published per horizon, whose series keep their contract type apart."""
_WEEK_AHEAD_DAYS = 8


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

    def qualifiers_of(series: TimeSeries) -> Qualifiers:
        return (contract_type_of(document, series, data_type), "", "")

    return document_points(
        document,
        fetched_at,
        data_type=data_type,
        area_code=area_code,
        unit_of=series_unit,
        qualifiers_of=qualifiers_of if data_type in CONTRACT_TYPED else None,
    )


def contract_type_of(document: MarketDocument, series: TimeSeries, data_type: str) -> str:
    """The horizon of a series of a contract-typed data type (see the module's docstring)."""
    if series.contract_type:
        return series.contract_type
    if data_type != "net_transfer_capacity":
        return PLATFORM_TABLE[DataType(data_type)].default_contract_type or ""
    resolution = series.resolution.upper()
    if resolution.startswith("PT"):
        return "A01"
    if resolution.endswith(("M", "Y")):
        return "A04"
    start, end = document.period_start, document.period_end
    if start is not None and end is not None and (end - start).days <= _WEEK_AHEAD_DAYS:
        return "A02"
    return "A03"
