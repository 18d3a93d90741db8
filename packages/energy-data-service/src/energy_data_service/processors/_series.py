"""What both processors share: one ``TimeSeries`` → stored points with provenance."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from entsoe_client.models import MarketDocument, TimeSeries

from energy_data_service.domain import EnergyPoint, normalise_resolution


def series_area(series: TimeSeries) -> str | None:
    """The EIC the series is about (load: outBiddingZone; prices: in/out domain)."""
    return series.bidding_zone or series.out_domain or series.in_domain


def series_points(
    document: MarketDocument,
    series: TimeSeries,
    *,
    data_type: str,
    area_code: str,
    unit: str,
    fetched_at: datetime,
) -> Iterator[EnergyPoint]:
    """Every point of ``series`` (A03 already forward-filled by the parser) as stored rows."""
    business_type = series.business_type or ""
    resolution = normalise_resolution(series.resolution)
    sequence = series.classification_sequence or 0
    for point in series.points:
        yield EnergyPoint(
            area_code,
            data_type,
            business_type,
            resolution,
            sequence,
            point.start,
            point.value,
            unit,
            series.curve_type,
            document.mrid,
            document.revision_number,
            document.created_at,
            fetched_at,
        )
