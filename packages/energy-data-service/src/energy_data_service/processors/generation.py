"""Generation documents (GL_MarketDocument): per type, per unit, forecasts, capacities, reservoirs.

Each production type is its own series (``psr_type``), each unit too (``registered_resource``):
nothing is summed. A series the platform publishes with ``outBiddingZone_Domain`` instead of
``inBiddingZone_Domain`` is consumption (pumped storage pumping, B10): it is stored apart from
the generation of the same type, marked by ``out_area_code`` = its own area (energy leaving the
area), so the two never merge.
"""

from __future__ import annotations

from datetime import datetime

from entsoe_client import MarketDocument, TimeSeries

from energy_data_service.domain import EnergyPoint
from energy_data_service.processors._series import document_points
from energy_data_service.processors._units import series_unit

GENERATION_DOCUMENTS = ("A68", "A69", "A71", "A72", "A73", "A75")


def is_consumption(series: TimeSeries) -> bool:
    """A generation document's series that leaves the area (out, not in, bidding zone)."""
    return series.in_domain is None and series.out_domain is not None


def _out_area(series: TimeSeries) -> str:
    return series.out_domain or "" if is_consumption(series) else ""


def process_generation_document(
    document: MarketDocument,
    fetched_at: datetime,
    *,
    data_type: str,
    area_code: str | None = None,
) -> list[EnergyPoint]:
    """Points of every series; consumption series carry their area as ``out_area_code``."""
    return document_points(
        document,
        fetched_at,
        data_type=data_type,
        area_code=area_code,
        unit_of=series_unit,
        out_area_of=_out_area,
    )
