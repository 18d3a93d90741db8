"""What both processors share: one ``TimeSeries`` → stored points with provenance.

A series is stored under each Period's own resolution: when its Periods differ (PT60M and
PT15M prices in one answer), each point's resolution is told by its length. The price beside a
quantity (``Point.price`` where the client reads one) is kept in ``price``; a day, week, month
or year point keeps its end, which no fixed step gives.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from itertools import repeat
from operator import attrgetter
from typing import Any, cast

from entsoe_client import MarketDocument, TimeSeries

from energy_data_service.domain import FIXED_STEPS, EnergyPoint, normalise_resolution

_START = attrgetter("start")
_END = attrgetter("end")
_VALUE = attrgetter("value")
_PRICE = attrgetter("price")
_new_tuple: Any = tuple.__new__
_RESOLUTION_OF_STEP = {step: name for name, step in reversed(list(FIXED_STEPS.items()))}


Qualifiers = tuple[str, str, str]
"""``(contract_type, flow_direction, price_category)`` of a series: codes or ''."""
NO_QUALIFIERS: Qualifiers = ("", "", "")


def series_area(series: TimeSeries) -> str | None:
    """The EIC the series is about (load: outBiddingZone; prices: in/out domain; directional
    data: in_Domain, where the energy goes)."""
    return series.bidding_zone or series.out_domain or series.in_domain


def series_out_area(series: TimeSeries) -> str:
    """Where the energy comes from for directional data (in and out domain differ), else ''."""
    directional = series.bidding_zone is None and series.in_domain and series.out_domain
    if directional and series.in_domain != series.out_domain:
        return series.out_domain or ""
    return ""


def _resolutions(series: TimeSeries) -> Iterator[str]:
    """Each point's resolution: the series' own, or by its length when Periods differ."""
    declared = normalise_resolution(series.resolution)
    if len(getattr(series, "resolutions", ()) or ()) <= 1:
        return repeat(declared)
    return (
        normalise_resolution(_RESOLUTION_OF_STEP.get(point.end - point.start, declared))
        for point in series.points
    )


def series_points(
    document: MarketDocument,
    series: TimeSeries,
    *,
    data_type: str,
    area_code: str,
    unit: str,
    fetched_at: datetime,
    out_area: str | None = None,
    qualifiers: Qualifiers = NO_QUALIFIERS,
) -> Iterator[EnergyPoint]:
    """Every point of ``series`` (A03 already forward-filled by the parser) as stored rows.

    ``out_area`` overrides the other area told by the domains (generation processors mark
    consumption series with it). The per-series fields are prepared once and the rows are
    zipped at C speed: ``tuple.__new__(EnergyPoint, row)`` builds each ``EnergyPoint`` without
    a Python frame.
    """
    points = series.points
    resolution = normalise_resolution(series.resolution)
    fixed = resolution in FIXED_STEPS and len(getattr(series, "resolutions", ()) or ()) <= 1
    has_price = bool(points) and hasattr(points[0], "price")
    other_area = series_out_area(series) if out_area is None else out_area
    in_domain = series.in_domain if other_area and out_area is None else None
    area = in_domain or area_code
    rows = zip(
        repeat(area),
        repeat(data_type),
        repeat(series.business_type or ""),
        _resolutions(series),
        repeat(series.classification_sequence or 0),
        map(_START, points),
        map(_VALUE, points),
        repeat(unit),
        repeat(series.curve_type),
        repeat(document.mrid),
        repeat(document.revision_number),
        repeat(document.created_at),
        repeat(fetched_at),
        map(_PRICE, points) if has_price else repeat(None),
        repeat(None) if fixed else map(_END, points),
        repeat(other_area),
        repeat(series.psr_type or ""),
        repeat(getattr(series, "registered_resource", None) or ""),
        *map(repeat, qualifiers),
    )
    return cast(Iterator[EnergyPoint], map(_new_tuple, repeat(EnergyPoint), rows))


def document_points(
    document: MarketDocument,
    fetched_at: datetime,
    *,
    data_type: str,
    area_code: str | None,
    unit_of: Callable[[TimeSeries], str],
    out_area_of: Callable[[TimeSeries], str | None] | None = None,
    qualifiers_of: Callable[[TimeSeries], Qualifiers] | None = None,
) -> list[EnergyPoint]:
    """Points of every series of a document; a family's processor only says what the unit is
    (and, where its series have them, the identity qualifiers: horizon, direction, category).

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
                out_area=None if out_area_of is None else out_area_of(series),
                qualifiers=NO_QUALIFIERS if qualifiers_of is None else qualifiers_of(series),
            )
        )
    return points
