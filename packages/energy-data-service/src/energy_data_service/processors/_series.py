"""What both processors share: one ``TimeSeries`` → stored points with provenance."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from itertools import repeat
from operator import attrgetter
from typing import Any, cast

from entsoe_client.models import MarketDocument, TimeSeries

from energy_data_service.domain import EnergyPoint, normalise_resolution

_START = attrgetter("start")
_VALUE = attrgetter("value")
_new_tuple: Any = tuple.__new__


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
    """Every point of ``series`` (A03 already forward-filled by the parser) as stored rows.

    The per-series fields are prepared once and the rows are zipped at C speed:
    ``tuple.__new__(EnergyPoint, row)`` builds each ``EnergyPoint`` without a Python frame.
    """
    points = series.points
    rows = zip(
        repeat(area_code),
        repeat(data_type),
        repeat(series.business_type or ""),
        repeat(normalise_resolution(series.resolution)),
        repeat(series.classification_sequence or 0),
        map(_START, points),
        map(_VALUE, points),
        repeat(unit),
        repeat(series.curve_type),
        repeat(document.mrid),
        repeat(document.revision_number),
        repeat(document.created_at),
        repeat(fetched_at),
    )
    return cast(Iterator[EnergyPoint], map(_new_tuple, repeat(EnergyPoint), rows))


def document_points(
    document: MarketDocument,
    fetched_at: datetime,
    *,
    data_type: str,
    area_code: str | None,
    unit_of: Callable[[TimeSeries], str],
) -> list[EnergyPoint]:
    """Points of every series of a document; a family's processor only says what the unit is.

    A series whose area can't be told (and none was given) is skipped.
    """
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
                unit=unit_of(series),
                fetched_at=fetched_at,
            )
        )
    return points
