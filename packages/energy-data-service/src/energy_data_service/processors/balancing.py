"""Balancing documents: imbalance prices and volumes, contracted reserves and their prices,
activated balancing energy prices (Balancing_MarketDocument).

Their series carry no domain: the area is the document's own (``controlArea_Domain`` /
``area_Domain``). Up- and down-regulation (``flowDirection.direction`` A01/A02) of the same
business type are two series (``flow_direction`` in the identity), and so are the two imbalance
prices of a quarter-hour (``imbalance_Price.category`` A04 long / A05 short: the platform sends
them as two series that differ only by that code, so without it the second overwrote the
first).
"""

from __future__ import annotations

from datetime import datetime

from entsoe_client import MarketDocument, TimeSeries

from energy_data_service.domain import EnergyPoint
from energy_data_service.processors._series import Qualifiers, document_points
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
        qualifiers_of=_imbalance_qualifiers if data_type == "imbalance_prices" else _qualifiers,
    )


def _qualifiers(series: TimeSeries) -> Qualifiers:
    return ("", series.flow_direction or "", "")


def _imbalance_qualifiers(series: TimeSeries) -> Qualifiers:
    """Only imbalance prices are told apart by category: reserve prices (A89) carry one too
    (A06 on every Point), which does not split them."""
    return ("", series.flow_direction or "", series.price_category or "")
