"""Generated answers for the catalogue beyond load and prices, in the platform's real shapes.

Each data family answers as the recorded documents show: generation per type as one series per
production type with ``inBiddingZone_Domain`` plus a pumped-storage consumption series with
``outBiddingZone_Domain``; generation per unit with ``registeredResource`` and the generating
unit under ``MktPSRType/PowerSystemResources``; capacities as P1Y points per local year;
reservoirs as P7D points on local weeks; transmission as Publication documents with
``in_Domain``/``out_Domain`` and their business, contract and auction types (exchanges state
the horizon asked for, transfer capacities do not, as recorded); balancing as Balancing
documents whose area is the document's ``area_Domain``, up and down series apart, imbalance
prices as two series told apart only by ``imbalance_Price.category`` on their Points (A04 long,
A05 short, the short price 1.25 times the long one here).
Values are ``value_at(start)`` (prices: its negative half for down-regulation), so any point
can be checked without keeping the answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from xml.sax.saxutils import escape

from entsoe_client.testing._documents import (
    GL_NAMESPACE,
    MARKET_TIME_ZONE,
    PUBLICATION_NAMESPACE,
    _iso,
    _local_midnight,
    _next_local_midnight,
    _periods,
    value_at,
)

BALANCING_NAMESPACE = "urn:iec62325.351:tc57wg16:451-6:balancingdocument:4:1"
_STEPS = {
    "PT15M": timedelta(minutes=15),
    "PT30M": timedelta(minutes=30),
    "PT60M": timedelta(hours=1),
}


@dataclass(frozen=True, slots=True)
class SeriesShape:
    """One series of a generated answer: its identity elements and how its points look."""

    head: str
    """XML between ``<mRID>`` and ``<curveType>`` (``{area}``/``{out_area}`` filled in)."""
    psr_type: str | None = None
    tail: str = ""
    """XML after ``<curveType>`` and before the Periods (``MktPSRType`` …)."""
    value_tag: str = "quantity"
    scale: float = 1.0
    point_tail: str = ""
    """XML after the value inside each Point (``imbalance_Price.category``)."""


@dataclass(frozen=True, slots=True)
class Shape:
    """How the platform answers one (documentType, processType)."""

    root: str
    namespace: str
    series: tuple[SeriesShape, ...]
    resolution: str | None = None
    """Fixed resolution (P1Y, P7D); ``None``: the stand-in's configured one."""
    daily: bool = False
    """One series per market day (day-ahead data) instead of one over the range."""
    document_area: bool = False
    """Balancing: the area is the document's ``area_Domain``, series carry none."""
    horizons: Mapping[str, float] | None = None
    """Exchanges and capacities: the horizons (``contract_MarketAgreement.Type``) answered,
    the default first, each with its value scale so the horizons of one border differ; a
    ``{contract}`` in a series' head is the horizon asked for. Others are refused."""


def _gl(business: str, zone: str = "inBiddingZone_Domain", unit: str = "MAW") -> str:
    return (
        f"<businessType>{business}</businessType><objectAggregation>A08</objectAggregation>"
        f'<{zone}.mRID codingScheme="A01">{{area}}</{zone}.mRID>'
        f"<quantity_Measure_Unit.name>{unit}</quantity_Measure_Unit.name>"
    )


def _psr(psr_type: str, unit: str | None = None) -> str:
    resources = (
        f'<PowerSystemResources><mRID codingScheme="A01">{unit}</mRID>'
        f"<name>{unit}</name></PowerSystemResources>"
        if unit
        else ""
    )
    return f"<MktPSRType><psrType>{psr_type}</psrType>{resources}</MktPSRType>"


def _per_type(psr_type: str, zone: str = "inBiddingZone_Domain") -> SeriesShape:
    return SeriesShape(_gl("A01", zone), psr_type, _psr(psr_type))


def _per_unit(psr_type: str, production: str, unit: str) -> SeriesShape:
    head = (
        "<businessType>A01</businessType><objectAggregation>A06</objectAggregation>"
        '<inBiddingZone_Domain.mRID codingScheme="A01">{area}</inBiddingZone_Domain.mRID>'
        f'<registeredResource.mRID codingScheme="A01">{production}</registeredResource.mRID>'
        "<quantity_Measure_Unit.name>MAW</quantity_Measure_Unit.name>"
    )
    return SeriesShape(head, psr_type, _psr(psr_type, unit))


def _border(business: str, extra: str = "") -> SeriesShape:
    head = (
        f"{extra}<businessType>{business}</businessType>"
        '<in_Domain.mRID codingScheme="A01">{area}</in_Domain.mRID>'
        '<out_Domain.mRID codingScheme="A01">{out_area}</out_Domain.mRID>'
        "<quantity_Measure_Unit.name>MAW</quantity_Measure_Unit.name>"
    )
    return SeriesShape(head)


def _imbalance_price(category: str, scale: float) -> SeriesShape:
    """An A85 series as the platform sends it: no direction, the price's category (A04 excess
    balance / long, A05 insufficient balance / short) on every Point."""
    unit = (
        "<currency_Unit.name>EUR</currency_Unit.name>"
        "<price_Measure_Unit.name>MWH</price_Measure_Unit.name>"
    )
    return SeriesShape(
        f"<businessType>A19</businessType>{unit}",
        None,
        "",
        "imbalance_Price.amount",
        scale,
        f"<imbalance_Price.category>{category}</imbalance_Price.category>",
    )


def _balancing(business: str, direction: str | None, value_tag: str, price: bool) -> SeriesShape:
    flow = f"<flowDirection.direction>{direction}</flowDirection.direction>" if direction else ""
    unit = (
        "<currency_Unit.name>EUR</currency_Unit.name><price_Measure_Unit.name>MWH"
        "</price_Measure_Unit.name>"
        if price
        else "<quantity_Measure_Unit.name>MAW</quantity_Measure_Unit.name>"
    )
    scale = -0.5 if price and direction == "A02" else 1.0
    return SeriesShape(
        f"<businessType>{business}</businessType>{flow}{unit}", None, "", value_tag, scale
    )


_GL = ("GL_MarketDocument", GL_NAMESPACE)
_PUBLICATION = ("Publication_MarketDocument", PUBLICATION_NAMESPACE)
_BALANCING = ("Balancing_MarketDocument", BALANCING_NAMESPACE)
_UP_DOWN = ("A01", "A02")

SHAPES: dict[tuple[str, str | None], Shape] = {
    ("A75", "A16"): Shape(
        *_GL,
        (
            _per_type("B16"),
            _per_type("B19"),
            _per_type("B10"),
            _per_type("B10", "outBiddingZone_Domain"),  # pumped storage pumping: consumption
        ),
    ),
    ("A73", "A16"): Shape(
        *_GL,
        (
            _per_unit("B16", "PROD-SOLAR-0001", "GEN-SOLAR-0001"),
            _per_unit("B19", "PROD-WIND-00001", "GEN-WIND-000001"),
        ),
    ),
    ("A71", "A01"): Shape(*_GL, (SeriesShape(_gl("A01")),), daily=True),
    ("A71", "A33"): Shape(
        *_GL,
        (
            _per_unit("B14", "PROD-NUCLEAR-01", "GEN-NUCLEAR-001"),
            _per_unit("B04", "PROD-GAS-000001", "GEN-GAS-0000001"),
        ),
        resolution="P1Y",
    ),
    ("A69", "A40"): Shape(*_GL, (_per_type("B16"), _per_type("B19")), daily=True),
    ("A69", "A18"): Shape(*_GL, (_per_type("B16"), _per_type("B19")), daily=True),
    ("A72", "A16"): Shape(*_GL, (SeriesShape(_gl("A01", unit="MWH")),), resolution="P7D"),
    # Exchanges state their horizon; transfer capacities do not (as the recorded A61 answers).
    ("A09", None): Shape(
        *_PUBLICATION,
        (
            _border(
                "A06", "<contract_MarketAgreement.type>{contract}</contract_MarketAgreement.type>"
            ),
        ),
        horizons={"A05": 1.0, "A01": 0.5},
    ),
    ("A61", None): Shape(
        *_PUBLICATION,
        (_border("A27"),),
        daily=True,
        horizons={"A01": 1.0, "A02": 0.9, "A03": 0.8, "A04": 0.7},
    ),
    ("A31", None): Shape(
        *_PUBLICATION,
        (
            _border(
                "A31",
                "<auction.type>A01</auction.type>"
                "<contract_MarketAgreement.type>A01</contract_MarketAgreement.type>",
            ),
        ),
        daily=True,
    ),
    ("A25", None): Shape(
        *_PUBLICATION,
        (
            _border(
                "B09",
                "<auction.type>A01</auction.type>"
                "<contract_MarketAgreement.type>A01</contract_MarketAgreement.type>",
            ),
        ),
        daily=True,
    ),
    ("A85", None): Shape(
        *_BALANCING,
        (_imbalance_price("A04", 1.0), _imbalance_price("A05", 1.25)),
        document_area=True,
    ),
    ("A86", None): Shape(
        *_BALANCING,
        tuple(_balancing("A19", d, "quantity", False) for d in _UP_DOWN),
        document_area=True,
    ),
    ("A81", None): Shape(
        *_BALANCING,
        tuple(_balancing("B95", d, "quantity", False) for d in _UP_DOWN),
        daily=True,
        document_area=True,
    ),
    ("A89", None): Shape(
        *_BALANCING,
        tuple(_balancing("B95", d, "procurement_Price.amount", True) for d in _UP_DOWN),
        daily=True,
        document_area=True,
    ),
    ("A84", "A16"): Shape(
        *_BALANCING,
        tuple(_balancing("A96", d, "activation_Price.amount", True) for d in _UP_DOWN),
        document_area=True,
    ),
}
"""(documentType, processType) → the answer's shape; ``generate_document`` uses it first."""


def shape_for(params: Mapping[str, str]) -> Shape | None:
    """The catalogue shape answering ``params``, if the type is one of them."""
    return SHAPES.get((params.get("documentType", ""), params.get("processType")))


def _local_weeks(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """Local Monday weeks (167–169 hours in UTC) overlapping ``[start, end)``."""
    day = _local_midnight(start)
    while day.astimezone(MARKET_TIME_ZONE).weekday() != 0:
        day = _local_midnight(day - timedelta(hours=1))
    weeks = []
    while day < end:
        following = day
        for _ in range(7):
            following = _next_local_midnight(following)
        weeks.append((day, following))
        day = following
    return weeks


def _point(position: int, value: float, tag: str, tail: str = "") -> str:
    return f"<Point><position>{position}</position><{tag}>{value!r}</{tag}>{tail}</Point>"


def _period(
    start: datetime, end: datetime, resolution: str, series: SeriesShape, scale: float = 1.0
) -> str:
    head = (
        f"<Period><timeInterval><start>{_iso(start)}</start><end>{_iso(end)}</end>"
        f"</timeInterval><resolution>{resolution}</resolution>"
    )
    factor = series.scale * scale
    tag, tail = series.value_tag, series.point_tail
    if resolution in ("P1Y", "P7D"):
        return head + _point(1, value_at(start) * factor, tag, tail) + "</Period>"
    step = _STEPS[resolution]
    count = int((end - start) / step)
    points = "".join(
        _point(i + 1, value_at(start + step * i) * factor, tag, tail) for i in range(count)
    )
    return head + points + "</Period>"


def horizon_of(params: Mapping[str, str], shape: Shape) -> tuple[str, float] | None:
    """The horizon asked for and its value scale; ``None`` for a horizon the type does not
    publish (the platform answers "No matching data found")."""
    if shape.horizons is None:
        return "", 1.0
    asked = params.get("contract_MarketAgreement.Type") or next(iter(shape.horizons))
    scale = shape.horizons.get(asked)
    return None if scale is None else (asked, scale)


def _ranges(
    shape: Shape, start: datetime, end: datetime, resolution: str
) -> list[tuple[datetime, datetime]]:
    if resolution == "P7D":
        return _local_weeks(start, end)
    return _periods(start, end, resolution, shape.daily and resolution in _STEPS)


def catalogue_document(
    params: Mapping[str, str],
    shape: Shape,
    *,
    start: datetime,
    end: datetime,
    resolution: str,
    revision: int,
    mrid: str,
) -> bytes:
    """The answer to ``params`` in ``shape`` (``psrType`` narrows production types)."""
    chosen = shape.resolution or resolution
    area = (
        params.get("in_Domain")
        or params.get("controlArea_Domain")
        or params.get("outBiddingZone_Domain")
        or "10Y1001A1001A82H"
    )
    out_area = params.get("out_Domain", area)
    wanted_psr = params.get("psrType")
    shapes: Sequence[SeriesShape] = [
        s for s in shape.series if wanted_psr is None or s.psr_type in (None, wanted_psr)
    ]
    periods = _ranges(shape, start, end, chosen)
    contract, scale = horizon_of(params, shape) or ("", 1.0)
    series_xml: list[str] = []
    for series in shapes:
        head = series.head.format(area=area, out_area=out_area, contract=contract)
        for period_start, period_end in periods:
            period = _period(period_start, period_end, chosen, series, scale)
            series_xml.append(
                f"<TimeSeries><mRID>{len(series_xml) + 1}</mRID>"
                f"{head}<curveType>A01</curveType>{series.tail}{period}</TimeSeries>"
            )
    first = periods[0][0] if periods else start
    last = periods[-1][1] if periods else end
    process = params.get("processType")
    process_xml = f"<process.processType>{process}</process.processType>" if process else ""
    area_xml = f'<area_Domain.mRID codingScheme="A01">{area}</area_Domain.mRID>'
    interval = (
        "time_Period.timeInterval" if shape.root == "GL_MarketDocument" else "period.timeInterval"
    )
    body = (
        f'<?xml version="1.0" encoding="utf-8"?>\n<{shape.root} xmlns="{shape.namespace}">'
        f"<mRID>{escape(mrid)}</mRID><revisionNumber>{revision}</revisionNumber>"
        f"<type>{params.get('documentType')}</type>{process_xml}"
        '<sender_MarketParticipant.mRID codingScheme="A01">10X1001A1001A450'
        "</sender_MarketParticipant.mRID>"
        "<sender_MarketParticipant.marketRole.type>A32</sender_MarketParticipant.marketRole.type>"
        '<receiver_MarketParticipant.mRID codingScheme="A01">10X1001A1001A450'
        "</receiver_MarketParticipant.mRID>"
        "<receiver_MarketParticipant.marketRole.type>A33"
        "</receiver_MarketParticipant.marketRole.type>"
        f"<createdDateTime>{_iso(datetime.now(UTC))}</createdDateTime>"
        f"{area_xml if shape.document_area else ''}"
        f"<{interval}><start>{_iso(first)}</start><end>{_iso(last)}</end></{interval}>"
        f"{''.join(series_xml)}</{shape.root}>"
    )
    return body.encode()
