"""Parse ENTSO-E Transparency Platform answers into typed documents, exactly and fast.

``parse_response(body)`` is what the HTTP client calls: it takes the raw bytes of an answer
(one XML document, several concatenated documents, or a ZIP archive of documents) and returns
every document in it. ``parse_document(data)`` reads exactly one XML document.

Documents read: ``GL_MarketDocument``, ``Publication_MarketDocument`` (namespaces 7:0 and 7:3),
``Balancing_MarketDocument``, ``TransmissionNetwork_MarketDocument``,
``Unavailability_MarketDocument``, ``ReserveBid_MarketDocument`` and
``Acknowledgement_MarketDocument``. Elements are matched by local name, so any namespace
version works. Other roots (``Configuration_MarketDocument``, ``HVDCLink_MarketDocument``, ...)
raise a ``ParseError`` saying the type is not supported.

How points are computed
-----------------------
* A Point's interval is ``[boundary(position - 1), boundary(position))`` from its Period's
  ``timeInterval/start``. Sub-day resolutions (PT15M, PT60M, ...) are fixed steps in UTC; day and
  longer ones (P1D, P7D, P1M, P3M, P1Y, any ``PnD``/``PnM``/``PnY``) step on the local calendar
  of the market's time zone (see ``entsoe_client._time``): the zone of the series' area
  (``areas.py``), else the zone in which the Period's start and end are both local midnights,
  else UTC with a warning in ``MarketDocument.warnings``. Timestamps are aware UTC datetimes.
* A Period has as many positions as whole steps fit between its start and end; a Period whose
  length is no whole number of steps, or a resolution the platform does not use, is a
  ``ParseError`` naming the document, the series and the Period.
* The value is the Point's ``quantity`` or ``price.amount`` (balancing and other documents:
  ``imbalance_Price.amount``, ``procurement_Price.amount``, ... see ``VALUE_ELEMENTS``), read with
  ``float(text)``. ``Point.price`` is the Point's price element when it has one, so a Point with
  a quantity and a price (A25 explicit allocations) keeps both.
* curveType A03 (variable sized blocks; the default when absent is A01): a position the platform
  omitted repeats the previous value. Series are forward-filled up to the Period's end, trailing
  omitted positions included, so every position of the Period is present.
  ``Unavailability_MarketDocument`` is the exception: its A03 Periods often span years at PT1M
  with a single Point, so each Point is kept as one block from its position to the next given
  position (or the Period end) instead of being expanded to millions of minutes.
* curveType A01 (and any other curve type) documents that nevertheless skip positions (a
  real-world quirk) give just the Points present: nothing is invented for missing positions.
* Points out of position order are sorted; a repeated position keeps its last value.
  Positions beyond the Period's end (a quirk of edited answers) are dropped, and counted in
  ``MarketDocument.warnings``: no point lies outside its Period.
* A Point without a value (``<quantity/>``) is skipped.
* Periods of one series are concatenated in time order, one ``TimeSeries`` per resolution
  (a series with a PT60M and a PT15M Period gives two, each keyed by its own resolution).

Performance: the XML is parsed once with ``lxml.etree.fromstring``; Period metadata is read
element by element, but Point positions and values are pulled out per Period with two compiled
XPath ``text()`` queries (C speed, no per-Point Python element objects), converted with
``map(int)``/``map(float)``, and timestamps are computed by accumulating one ``timedelta``.
The Points themselves are built by ``_point_builder`` (slots filled column by column, the
cyclic garbage collector paused), which is tested against ``Point(...)`` built one by one.
"""

from __future__ import annotations

import io
import struct
import threading
import zipfile
import zlib
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from itertools import repeat
from operator import attrgetter, lt
from typing import TYPE_CHECKING, Final, TypeVar, cast

from lxml import etree

from entsoe_client._areas import Area
from entsoe_client._exceptions import AnswerTooLargeError, ParseError
from entsoe_client._models import Acknowledgement, MarketDocument, Point, TimeSeries
from entsoe_client._point_builder import build_points, cyclic_gc_paused
from entsoe_client._redaction import redact
from entsoe_client._time import Resolution, market_zone, parse_resolution, parse_timestamp

if TYPE_CHECKING:
    from datetime import tzinfo

__all__ = [
    "ACKNOWLEDGEMENT_ROOT",
    "MAX_ZIP_MEMBERS",
    "MAX_ZIP_TOTAL_BYTES",
    "SUPPORTED_ROOTS",
    "VALUE_ELEMENTS",
    "parse_document",
    "parse_response",
    "split_documents",
]

ACKNOWLEDGEMENT_ROOT: Final = "Acknowledgement_MarketDocument"

SUPPORTED_ROOTS: Final = frozenset(
    {
        "GL_MarketDocument",
        "Publication_MarketDocument",
        "Balancing_MarketDocument",
        "TransmissionNetwork_MarketDocument",
        "Unavailability_MarketDocument",
        "ReserveBid_MarketDocument",
    }
)
"""Time-series document roots ``parse_document`` reads (besides Acknowledgements)."""

_BLOCK_ROOTS: Final = frozenset({"Unavailability_MarketDocument"})
"""Roots whose A03 Periods are kept as variable-sized blocks instead of being expanded."""

VALUE_ELEMENTS: Final = (
    "quantity",
    "price.amount",
    "imbalance_Price.amount",
    "procurement_Price.amount",
    "activation_Price.amount",
    "energy_Price.amount",
    "congestionCost_Price.amount",
    "quantity.quantity",
    "secondaryQuantity",
    "unavailable_Quantity.quantity",
)
"""Point children read as the value, first present wins (per Period, from its first Point)."""

PRICE_ELEMENTS: Final = tuple(name for name in VALUE_ELEMENTS if name.endswith("rice.amount"))
"""Point children read as ``Point.price``, first present wins (per Period, from its first Point)."""

_SERIES_TAGS: Final = frozenset({"TimeSeries", "Bid_TimeSeries"})
_PERIOD_TAGS: Final = frozenset({"Period", "Available_Period"})
_FALLBACK_PERIOD_TAG: Final = "WindPowerFeedin_Period"
"""Offshore-grid outages carry only this Period; it is read when a series has no other."""

# TimeSeries child (local name) -> TimeSeries field. First occurrence wins.
_SERIES_FIELDS: Final = {
    "mRID": "mrid",
    "businessType": "business_type",
    "curveType": "curve_type",
    "objectAggregation": "object_aggregation",
    "in_Domain.mRID": "in_domain",
    "inBiddingZone_Domain.mRID": "in_domain",
    "out_Domain.mRID": "out_domain",
    "outBiddingZone_Domain.mRID": "out_domain",
    "biddingZone_Domain.mRID": "bidding_zone",
    "quantity_Measure_Unit.name": "unit",
    "quantity_Measurement_Unit.name": "unit",
    "measurement_Unit.name": "unit",
    "currency_Unit.name": "currency",
    "price_Measure_Unit.name": "price_unit",
    "mktPSRType.psrType": "psr_type",
    "production_RegisteredResource.pSRType.psrType": "psr_type",
    "classificationSequence_AttributeInstanceComponent.position": "classification_sequence",
    "registeredResource.mRID": "registered_resource",
    "production_RegisteredResource.mRID": "registered_resource",
    "connectingLine_RegisteredResource.mRID": "registered_resource",
    "flowDirection.direction": "flow_direction",
    "contract_MarketAgreement.type": "contract_type",
    "type_MarketAgreement.type": "contract_type",
}
_GL_ZONES: Final = frozenset({"inBiddingZone_Domain.mRID", "outBiddingZone_Domain.mRID"})
_DOCUMENT_DOMAINS: Final = frozenset(
    {"area_Domain.mRID", "controlArea_Domain.mRID", "domain.mRID", "acquiring_Domain.mRID"}
)

_INCREMENTAL_PARSE_BYTES: Final = 32 * 1024 * 1024
"""From this size on a document is read series by series (``_incremental_parser``)."""

MAX_ZIP_MEMBER_BYTES: Final = 512 * 1024 * 1024
"""A ZIP member larger than this once unpacked is refused (protection against ZIP bombs)."""
MAX_ZIP_TOTAL_BYTES: Final = 1024 * 1024 * 1024
"""An archive whose members unpack to more than this in total is refused before any is read:
the sizes come from the archive's directory (what ``zipfile`` reads at most per member), so the
refusal costs no memory however large the archive claims to be."""
MAX_ZIP_MEMBERS: Final = 10_000
"""An archive listing more members than this is refused before any is read: the platform's
ZIP answers (outages, some balancing data) hold one document per event, a few hundred at most,
while a crafted directory of millions of empty members costs time and memory per entry."""


# --------------------------------------------------------------------------------------------
# Public API


def parse_response(
    data: bytes | str,
    *,
    max_zip_bytes: int = MAX_ZIP_TOTAL_BYTES,
    max_zip_members: int = MAX_ZIP_MEMBERS,
    incremental: bool | None = None,
) -> list[MarketDocument | Acknowledgement]:
    """Every document in a platform answer: one XML document, several concatenated ones, or a
    ZIP archive whose members are documents (outage and some balancing answers).

    Raises ``ParseError`` on malformed XML, an unsupported root or a ZIP holding no document,
    and its ``AnswerTooLargeError`` for a ZIP unpacking to more than ``max_zip_bytes`` in total
    or listing more than ``max_zip_members`` members. ``incremental`` as for ``parse_document``.
    """
    raw = _as_bytes(data)
    with cyclic_gc_paused():
        if raw[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
            return _parse_zip(raw, max_zip_bytes, max_zip_members, incremental)
        return [parse_document(part, incremental=incremental) for part in split_documents(raw)]


def parse_document(
    data: bytes | str, *, incremental: bool | None = None
) -> MarketDocument | Acknowledgement:
    """One XML document: a ``MarketDocument`` with its series, or an ``Acknowledgement``.

    ``str`` input is encoded as UTF-8 first. External entities and DTDs are never loaded.
    Raises ``ParseError`` on malformed XML or a root element that is not a supported document.

    A document of 32 MiB or more is read series by series, freeing each series' elements once
    read, so memory stays near the document's size plus its points instead of ten times the
    document (``_incremental_parser``); ``incremental=True``/``False`` forces either way. Both
    give equal documents.
    """
    raw = _as_bytes(data).lstrip()
    if not raw:
        raise ParseError("empty answer: expected an ENTSO-E XML document")
    if raw[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        raise ParseError("this is a ZIP archive, not one XML document: use parse_response()")
    if incremental or (incremental is None and len(raw) >= _INCREMENTAL_PARSE_BYTES):
        from entsoe_client._incremental_parser import parse_incrementally

        return parse_incrementally(raw)
    try:
        root = etree.fromstring(raw, _STATE.parser)
    except etree.XMLSyntaxError as exc:
        raise ParseError(f"malformed XML ({exc}); the answer starts with {_preview(raw)}") from exc
    return _document_from_root(root)


def split_documents(data: bytes) -> list[bytes]:
    """Split several concatenated XML documents (each starting with ``<?xml``) into a list."""
    first = data.find(b"<?xml")
    if first == -1 or data.find(b"<?xml", first + 5) == -1:
        return [data]
    parts = data[first:].split(b"<?xml")
    return [b"<?xml" + part for part in parts if part.strip()]


# --------------------------------------------------------------------------------------------
# Plumbing


class _State(threading.local):
    """Per-thread parser and compiled XPath queries (lxml objects are not shared by threads)."""

    def __init__(self) -> None:
        self.parser = etree.XMLParser(
            remove_blank_text=True,
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            collect_ids=False,
        )
        self.queries: dict[tuple[str, str, str | None], _PointQueries] = {}


class _PointQueries:
    """Compiled XPath queries over a Period: the text of every Point's position and value (and
    price, when the Points carry a price beside their quantity)."""

    __slots__ = ("positions", "prices", "values")

    def __init__(self, namespace: str, value_name: str, price_name: str | None) -> None:
        prefix = "e:" if namespace else ""
        ns = {"e": namespace} if namespace else None
        self.positions = etree.XPath(
            f"{prefix}Point/{prefix}position/text()", namespaces=ns, smart_strings=False
        )
        self.values = etree.XPath(
            f"{prefix}Point/{prefix}{value_name}/text()", namespaces=ns, smart_strings=False
        )
        self.prices = (
            etree.XPath(
                f"{prefix}Point/{prefix}{price_name}/text()", namespaces=ns, smart_strings=False
            )
            if price_name is not None
            else None
        )


_STATE = _State()


def _queries(namespace: str, value_name: str, price_name: str | None) -> _PointQueries:
    cache = _STATE.queries
    key = (namespace, value_name, price_name)
    found = cache.get(key)
    if found is None:
        found = cache[key] = _PointQueries(namespace, value_name, price_name)
    return found


@lru_cache(maxsize=512)
def _area_zone(eic: str) -> tzinfo | None:
    """The market time zone of the area with this EIC, or None when the client doesn't know it."""
    area = Area.from_eic(eic)
    return area.time_zone if area is not None else None


def _iso(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ") if moment is not None else "?"


def _as_bytes(data: bytes | str) -> bytes:
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    raise TypeError(f"expected bytes or str, got {type(data).__name__}")


def _preview(raw: bytes) -> str:
    """The answer's first characters for an error message, with any token masked (an upstream
    may echo the request, token included, in a body that is not XML)."""
    text = raw[:200].decode("utf-8", errors="replace")
    return repr(redact(" ".join(text.split()))[:80])


def _local(tag: object) -> str | None:
    if not isinstance(tag, str):
        return None  # comments and processing instructions
    return tag.rpartition("}")[2]


def _namespace(tag: str) -> str:
    return tag[1:].partition("}")[0] if tag[:1] == "{" else ""


def _text(element: etree._Element) -> str:
    return (element.text or "").strip()


def _interval(element: etree._Element) -> tuple[datetime | None, datetime | None]:
    start = end = None
    for child in element:
        name = _local(child.tag)
        if name == "start":
            start = parse_timestamp(_text(child))
        elif name == "end":
            end = parse_timestamp(_text(child))
    return start, end


def _int(text: str, what: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ParseError(f"{what} {text!r} is not an integer") from None


# --------------------------------------------------------------------------------------------
# Documents


def _document_from_root(root: etree._Element) -> MarketDocument | Acknowledgement:
    name = _local(root.tag)
    if name == ACKNOWLEDGEMENT_ROOT:
        return _parse_acknowledgement(root)
    if name in SUPPORTED_ROOTS:
        return _parse_market_document(root, name)
    if name and name.endswith("_MarketDocument"):
        raise ParseError(
            f"{name} is not supported: entsoe_client reads time-series documents "
            f"({', '.join(sorted(SUPPORTED_ROOTS))}) and {ACKNOWLEDGEMENT_ROOT}"
        )
    raise ParseError(f"not an ENTSO-E document: the root element is <{name}>")


def _parse_acknowledgement(root: etree._Element) -> Acknowledgement:
    mrid: str | None = None
    created: datetime | None = None
    codes: list[str] = []
    texts: list[str] = []
    for child in root:
        name = _local(child.tag)
        if name == "mRID":
            mrid = _text(child)
        elif name == "createdDateTime":
            created = parse_timestamp(_text(child))
        elif name == "Reason":
            for part in child:
                part_name = _local(part.tag)
                if part_name == "code" and _text(part):
                    codes.append(_text(part))
                elif part_name == "text" and _text(part):
                    texts.append(_text(part))
    return Acknowledgement(
        mrid=mrid,
        created_at=created,
        reason_code=codes[0] if codes else None,
        reason_text="; ".join(texts),
    )


def _parse_market_document(root: etree._Element, root_name: str) -> MarketDocument:
    builder = _DocumentBuilder(root_name)
    for child in root:
        builder.add(child)
    return builder.build()


class _DocumentBuilder:
    """A market document read child by child of its root, in document order.

    The whole-tree parser hands it every child of the parsed root; the incremental parser
    (``_incremental_parser``) each child as soon as it is complete, then frees it. A series is
    read with the document-level domain seen before it, as the platform writes the header first.
    """

    __slots__ = (
        "blocks",
        "created",
        "doc_status",
        "document_type",
        "domain",
        "mrid",
        "period_end",
        "period_start",
        "process_type",
        "revision",
        "root_name",
        "series",
        "warnings",
    )

    def __init__(self, root_name: str) -> None:
        self.root_name = root_name
        self.mrid = ""
        self.revision = 1  # the platform's first revision; a few documents omit the element
        self.created: datetime | None = None
        self.document_type = ""
        self.process_type: str | None = None
        self.period_start: datetime | None = None
        self.period_end: datetime | None = None
        self.domain: str | None = None
        self.doc_status: str | None = None
        self.series: list[TimeSeries] = []
        self.warnings: list[str] = []
        self.blocks = root_name in _BLOCK_ROOTS

    def add(self, child: etree._Element) -> None:
        """Read one child of the root (a header element or a series)."""
        name = _local(child.tag)
        if name is None:
            return
        if name in _SERIES_TAGS:
            try:
                self.series.extend(_parse_series(child, self.blocks, self.domain, self.warnings))
            except ParseError as exc:
                raise ParseError(f"{self.root_name} {self.mrid or '(no mRID)'!r}: {exc}") from None
        elif name == "mRID":
            self.mrid = _text(child)
        elif name == "revisionNumber":
            self.revision = _int(_text(child), "revisionNumber")
        elif name == "type":
            self.document_type = _text(child)
        elif name == "process.processType":
            self.process_type = _text(child) or None
        elif name == "createdDateTime":
            self.created = parse_timestamp(_text(child))
        elif name.endswith("timeInterval"):
            if self.period_start is None:
                self.period_start, self.period_end = _interval(child)
        elif name.endswith("timeInterval.start"):
            self.period_start = self.period_start or parse_timestamp(_text(child))
        elif name.endswith("timeInterval.end"):
            self.period_end = self.period_end or parse_timestamp(_text(child))
        elif name in _DOCUMENT_DOMAINS:
            self.domain = self.domain or _text(child) or None
        elif name == "docStatus":
            self.doc_status = _text(child[0]) if len(child) else _text(child)

    def build(self) -> MarketDocument:
        return MarketDocument(
            mrid=self.mrid,
            revision_number=self.revision,
            created_at=self.created,
            document_type=self.document_type,
            process_type=self.process_type,
            period_start=self.period_start,
            period_end=self.period_end,
            root_element=self.root_name,
            series=self.series,
            domain=self.domain,
            doc_status=self.doc_status or None,
            warnings=tuple(self.warnings),
        )


# --------------------------------------------------------------------------------------------
# Series


def _parse_series(
    element: etree._Element, blocks: bool, domain: str | None, warnings: list[str]
) -> list[TimeSeries]:
    """One ``TimeSeries`` per resolution of the element's Periods (usually exactly one)."""
    fields: dict[str, str] = {}
    periods: list[etree._Element] = []
    fallback_periods: list[etree._Element] = []
    for child in element:
        name = _local(child.tag)
        if name is None:
            continue
        if name in _PERIOD_TAGS:
            periods.append(child)
            continue
        if name == _FALLBACK_PERIOD_TAG:
            fallback_periods.append(child)
            continue
        field = _SERIES_FIELDS.get(name)
        if field is not None:
            if field not in fields:
                fields[field] = _text(child)
            if name in _GL_ZONES and "gl_zone" not in fields:
                fields["gl_zone"] = _text(child)
        elif name == "MktPSRType":
            for part in child:
                kind = _local(part.tag)
                if kind == "psrType" and "psr_type" not in fields:
                    fields["psr_type"] = _text(part)
                elif kind == "PowerSystemResources":
                    # generation per unit: the generating unit inside the production unit
                    for item in part:
                        if _local(item.tag) == "mRID":
                            fields["generation_unit"] = _text(item)
                            break
        elif name == "Asset_RegisteredResource" and "registered_resource" not in fields:
            for part in child:
                if _local(part.tag) == "mRID":
                    fields["registered_resource"] = _text(part)
                    break

    periods = periods or fallback_periods
    mrid = fields.get("mrid", "")
    curve_type = fields.get("curve_type") or "A01"
    in_domain = fields.get("in_domain") or None
    out_domain = fields.get("out_domain") or None
    # The zone a series is about: biddingZone_Domain, else the GL document's in/outBiddingZone,
    # else in_Domain when it equals out_Domain (prices); flows between two zones have none.
    bidding_zone = fields.get("bidding_zone") or fields.get("gl_zone") or None
    if bidding_zone is None and in_domain is not None and in_domain == out_domain:
        bidding_zone = in_domain
    known_zone = _series_zone((bidding_zone, in_domain, out_domain, domain))

    by_resolution: dict[str, list[Point]] = {}
    unordered: set[str] = set()
    for number, period in enumerate(periods, start=1):
        period_points, resolution = _parse_period(
            period,
            curve_type,
            blocks,
            f"TimeSeries {mrid!r}, Period {number}",
            known_zone,
            warnings,
        )
        points = by_resolution.setdefault(resolution, [])
        if period_points and points and period_points[0].start < points[-1].end:
            unordered.add(resolution)
        points.extend(period_points)
    for resolution in unordered:
        by_resolution[resolution].sort(key=attrgetter("start"))
    if not by_resolution:
        by_resolution[""] = []

    sequence = fields.get("classification_sequence")
    category = _price_category(periods)
    if category:
        fields["price_category"] = category
    return [
        _series(
            fields,
            mrid,
            curve_type,
            resolution,
            points,
            in_domain,
            out_domain,
            bidding_zone,
            sequence,
        )
        for resolution, points in by_resolution.items()
    ]


def _price_category(periods: list[etree._Element]) -> str | None:
    """``imbalance_Price.category`` of the first Point (imbalance prices), else ``None``: only
    the first Point's children are looked at, so other documents pay a few element visits."""
    for period in periods:
        for point in period:
            if _local(point.tag) != "Point":
                continue
            for child in point:
                if _local(child.tag) == "imbalance_Price.category":
                    return _text(child) or None
            return None
    return None


def _series_zone(eics: Iterable[str | None]) -> tzinfo | None:
    """The market time zone of the first of ``eics`` the client knows."""
    for eic in eics:
        if eic:
            zone = _area_zone(eic)
            if zone is not None:
                return zone
    return None


def _series(
    fields: dict[str, str],
    mrid: str,
    curve_type: str,
    resolution: str,
    points: list[Point],
    in_domain: str | None,
    out_domain: str | None,
    bidding_zone: str | None,
    sequence: str | None,
) -> TimeSeries:
    return TimeSeries(
        mrid=mrid,
        business_type=fields.get("business_type") or None,
        curve_type=curve_type,
        resolution=resolution,
        points=points,
        in_domain=in_domain,
        out_domain=out_domain,
        bidding_zone=bidding_zone,
        unit=fields.get("unit") or None,
        currency=fields.get("currency") or None,
        price_unit=fields.get("price_unit") or None,
        psr_type=fields.get("psr_type") or None,
        classification_sequence=_int(sequence, "classificationSequence position")
        if sequence
        else None,
        object_aggregation=fields.get("object_aggregation") or None,
        resolutions=(resolution,) if resolution else (),
        registered_resource=fields.get("generation_unit")
        or fields.get("registered_resource")
        or None,
        flow_direction=fields.get("flow_direction") or None,
        contract_type=fields.get("contract_type") or None,
        price_category=fields.get("price_category") or None,
    )


# --------------------------------------------------------------------------------------------
# Periods and points


def _parse_period(
    period: etree._Element,
    curve_type: str,
    blocks: bool,
    where: str,
    known_zone: tzinfo | None,
    warnings: list[str],
) -> tuple[list[Point], str]:
    """The points of one Period and its resolution; ``where`` names it in errors."""
    start: datetime | None = None
    end: datetime | None = None
    resolution_text: str | None = None
    first_point: etree._Element | None = None
    first_index = 0
    # Metadata precedes the Points in the schema: stop at the first Point so the (many) Point
    # elements never become Python objects here.
    for first_index, child in enumerate(period):  # noqa: B007 (first_index is used below)
        name = _local(child.tag)
        if name == "Point":
            first_point = child
            break
        if name == "timeInterval":
            start, end = _interval(child)
        elif name == "timeInterval.start":
            start = parse_timestamp(_text(child))
        elif name == "timeInterval.end":
            end = parse_timestamp(_text(child))
        elif name == "resolution":
            resolution_text = _text(child)
    prefix = "{" + _namespace(period.tag) + "}" if period.tag[:1] == "{" else ""
    if resolution_text is None:  # out of schema order: look after the Points too
        found = period.find(prefix + "resolution")
        resolution_text = _text(found) if found is not None else None
    if start is None:
        found = period.find(prefix + "timeInterval")
        if found is not None:
            start, end = _interval(found)
    if not resolution_text:
        raise ParseError(f"{where} has no resolution")
    if start is None:
        raise ParseError(f"{where} has no timeInterval start")
    try:
        resolution = parse_resolution(resolution_text)
    except ParseError as exc:
        raise ParseError(f"{where}: {exc}") from None
    where = f"{where} ({_iso(start)}/{_iso(end)}, {resolution.text})"
    zone: tzinfo = UTC
    if resolution.is_calendar:
        zone, fits = market_zone(start, end, known_zone)
        if not fits:
            warnings.append(
                f"{where}: start and end are no local midnights in any market time zone; "
                f"its {resolution.text} steps follow the calendar of {zone}"
            )
    slots: int | None = None
    short = False
    if end is not None:
        slots = resolution.slots(start, end, zone)
        short = slots == 0 and end > start
        if short:
            # Shorter than one step (installed capacity per unit: a one-day P1Y Period): its
            # one position covers exactly the Period.
            slots = 1
        elif resolution.boundary(start, slots, zone) != end:
            raise ParseError(
                f"{where}: the Period is no whole number of {resolution.text} steps "
                f"({slots} steps end at {_iso(resolution.boundary(start, slots, zone))})"
            )
    if first_point is None:
        return [], resolution.text

    # In schema order every child from the first Point on is a Point.
    positions, values, prices = _read_points(period, first_point, len(period) - first_index, where)
    if not positions:
        return [], resolution.text
    points = _make_points(
        positions,
        values,
        prices,
        resolution,
        start,
        zone,
        slots,
        curve_type,
        blocks,
        where,
        warnings,
    )
    if short and points:
        only = points[0]
        points = [Point(only.start, cast("datetime", end), only.value, 1, only.price)]
    return points, resolution.text


def _value_name(point: etree._Element) -> tuple[str, str, str | None] | None:
    """(namespace, local name of the value element, local name of a price element beside it)
    of a Point, or None when it has no value. The price name is None when the Point has no
    price or when the value is the price itself."""
    found: dict[str, etree._Element] = {}
    for child in point:
        name = _local(child.tag)
        if name is not None:
            found.setdefault(name, child)
    for name in VALUE_ELEMENTS:
        if name in found:
            price = None
            if name not in PRICE_ELEMENTS:
                price = next((p for p in PRICE_ELEMENTS if p in found), None)
            return _namespace(str(found[name].tag)), name, price
    for name, child in found.items():  # anything else numeric: first wins
        if name == "position":
            continue
        try:
            float(_text(child))
        except ValueError:
            continue
        return _namespace(str(child.tag)), name, None
    return None


Prices = list[float] | list[float | None] | None
"""A Period's ``Point.price`` column: None when no Point has a price beside its value."""


def _read_points(
    period: etree._Element, first_point: etree._Element, count: int, where: str
) -> tuple[list[int], list[float], Prices]:
    """Positions, values (and prices) of a Period's ``count`` Points, pulled out with compiled
    XPath queries; Point by Point when some Point lacks a position or value (or there are other
    children)."""
    value = _value_name(first_point)
    if value is None:
        return [], [], None
    namespace, value_name, price_name = value
    queries = _queries(namespace, value_name, price_name)
    position_texts = cast(list[str], queries.positions(period))
    value_texts = cast(list[str], queries.values(period))
    price_texts = cast(list[str], queries.prices(period)) if queries.prices is not None else None
    if len(position_texts) == count == len(value_texts) and (
        price_texts is None or len(price_texts) == count
    ):
        try:
            positions = list(map(int, position_texts))
        except ValueError:
            raise ParseError(_bad_number("position", position_texts, int, where)) from None
        try:
            values = list(map(float, value_texts))
        except ValueError:
            raise ParseError(_bad_number(value_name, value_texts, float, where)) from None
        prices: Prices = None
        if price_texts is not None:
            try:
                prices = list(map(float, price_texts))
            except ValueError:
                raise ParseError(_bad_number(str(price_name), price_texts, float, where)) from None
        elif value_name in PRICE_ELEMENTS:
            prices = values
        return positions, values, prices
    return _read_points_slowly(period, first_point.tag, namespace, value_name, price_name, where)


def _read_points_slowly(
    period: etree._Element,
    point_tag: str,
    namespace: str,
    value_name: str,
    price_name: str | None,
    where: str,
) -> tuple[list[int], list[float], Prices]:
    """Point by Point, for Periods where some Point lacks a position, a value or a price."""
    prefix = "{" + _namespace(point_tag) + "}" if point_tag[:1] == "{" else ""
    value_tag = ("{" + namespace + "}" if namespace else "") + value_name
    price_tag = ("{" + namespace + "}" if namespace else "") + price_name if price_name else None
    positions: list[int] = []
    values: list[float] = []
    prices: list[float | None] = []
    for point in period.iterchildren(point_tag):
        position_element = point.find(prefix + "position")
        value_element = point.find(value_tag)
        if position_element is None:
            raise ParseError(f"{where}: a Point has no position")
        if value_element is None or not _text(value_element):
            continue  # no value: skipped (documented)
        positions.append(_int(_text(position_element), f"{where}: Point position"))
        values.append(_float(_text(value_element), value_name, where))
        if price_tag is not None:
            price_element = point.find(price_tag)
            text = _text(price_element) if price_element is not None else ""
            prices.append(_float(text, str(price_name), where) if text else None)
    if price_tag is not None:
        return positions, values, prices
    return positions, values, (values if value_name in PRICE_ELEMENTS else None)


def _float(text: str, what: str, where: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ParseError(f"{where}: {what} {text!r} is not a number") from None


def _bad_number(what: str, texts: list[str], kind: type, where: str) -> str:
    for text in texts:
        try:
            kind(text)
        except ValueError:
            return f"{where}: {what} {text.strip()!r} is not a number"
    return f"{where}: unreadable {what}"  # pragma: no cover


def _make_points(
    positions: list[int],
    values: list[float],
    prices: Prices,
    resolution: Resolution,
    start: datetime,
    zone: tzinfo,
    slots: int | None,
    curve_type: str,
    blocks: bool,
    where: str,
    warnings: list[str],
) -> list[Point]:
    """The Points of one Period; ``slots`` is its number of positions (None: no end given)."""
    count = len(positions)
    contiguous = (
        positions[0] == 1 and positions[-1] == count and positions == list(range(1, count + 1))
    )
    if not contiguous:
        if positions[0] < 1 or min(positions) < 1:
            raise ParseError(f"{where}: Point position {min(positions)} is below 1")
        if not all(map(lt, positions, positions[1:])):
            # a repeated position: last wins
            merged = dict(zip(positions, range(count), strict=True))
            positions = sorted(merged)
            values = [values[merged[position]] for position in positions]
            if prices is not None:
                prices = [prices[merged[position]] for position in positions]
            count = len(positions)
    if slots is not None and positions[-1] > slots:
        kept = bisect_right(positions, slots)
        warnings.append(
            f"{where}: {count - kept} Point(s) at positions beyond the Period's last "
            f"position {slots} dropped"
        )
        positions, values = positions[:kept], values[:kept]
        prices = prices[:kept] if prices is not None else None
        count = kept
        if not count:
            return []
    expand = curve_type == "A03"
    if contiguous and (not expand or slots is None or count >= slots):
        bounds = resolution.boundaries(start, count, zone)
        return build_points(bounds[:-1], bounds[1:], values, positions, prices)
    if not expand:
        # A01 (or A02/A04/A05) with positions missing: just the Points present.
        bounds = resolution.boundaries(start, positions[-1], zone)
        starts = [bounds[position - 1] for position in positions]
        ends = [bounds[position] for position in positions]
        return build_points(starts, ends, values, positions, prices)
    last = max(slots or 0, positions[-1])
    bounds = resolution.boundaries(start, last, zone)
    if blocks:
        edges = [*positions, last + 1]
        block_starts = [bounds[edge - 1] for edge in edges[:-1]]
        block_ends = [bounds[edge - 1] for edge in edges[1:]]
        return build_points(block_starts, block_ends, values, positions, prices)
    # A03: forward-fill every omitted position up to the Period's end.
    first = positions[0]
    following = [*positions[1:], last + 1]
    filled = _forward_fill(positions, following, values)
    filled_prices = _forward_fill(positions, following, prices) if prices is not None else None
    return build_points(
        bounds[first - 1 : last],
        bounds[first : last + 1],
        filled,
        range(first, last + 1),
        filled_prices,
    )


def _forward_fill(positions: list[int], following: list[int], values: Sequence[_T]) -> list[_T]:
    """Each value repeated from its position up to the next given one."""
    filled: list[_T] = []
    extend = filled.extend
    for position, until, value in zip(positions, following, values, strict=True):
        extend(repeat(value, until - position))
    return filled


_T = TypeVar("_T")

# --------------------------------------------------------------------------------------------
# ZIP answers


def _declared_members(raw: bytes) -> int | None:
    """How many members the archive's end record declares, read before ``zipfile`` parses the
    directory (a ZipInfo object per entry: a crafted directory of millions would cost its
    memory before any count could be checked). None when there is no end record to read."""
    end = raw.rfind(b"PK\x05\x06", max(0, len(raw) - 65_557))  # 22 bytes + a comment
    if end < 0 or len(raw) - end < 22:
        return None
    (total,) = struct.unpack_from("<H", raw, end + 10)
    locator = end - 20
    if total != 0xFFFF or locator < 0 or raw[locator : locator + 4] != b"PK\x06\x07":
        return int(total)
    (record,) = struct.unpack_from("<Q", raw, locator + 8)  # Zip64: the count is 8 bytes
    if record + 56 > len(raw) or raw[record : record + 4] != b"PK\x06\x06":
        return int(total)
    (count,) = struct.unpack_from("<Q", raw, record + 32)
    return int(count)


def _too_many_members(members: int, max_members: int) -> AnswerTooLargeError:
    return AnswerTooLargeError(
        f"ZIP answer lists {members} members, more than the {max_members} allowed "
        "(max_zip_members)",
        limit_name="max_zip_members",
        limit=max_members,
        size=members,
    )


def _parse_zip(
    raw: bytes, max_total: int, max_members: int, incremental: bool | None
) -> list[MarketDocument | Acknowledgement]:
    declared = _declared_members(raw)
    if declared is not None and declared > max_members:
        raise _too_many_members(declared, max_members)
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except zipfile.BadZipFile as exc:
        raise ParseError(f"corrupt ZIP answer: {exc}") from exc
    members = len(archive.infolist())  # an end record may understate what the directory lists
    if members > max_members:
        archive.close()
        raise _too_many_members(members, max_members)
    total = sum(info.file_size for info in archive.infolist())
    if total > max_total:
        archive.close()
        raise AnswerTooLargeError(
            f"ZIP answer unpacks to {total} bytes in {members} member(s), "
            f"more than the {max_total} allowed (max_zip_bytes)",
            limit_name="max_zip_bytes",
            limit=max_total,
            size=total,
        )
    documents: list[MarketDocument | Acknowledgement] = []
    names: list[str] = []
    with archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            names.append(info.filename)
            if info.file_size > MAX_ZIP_MEMBER_BYTES:
                raise ParseError(
                    f"ZIP member {info.filename!r} unpacks to {info.file_size} bytes, "
                    f"more than the {MAX_ZIP_MEMBER_BYTES} allowed"
                )
            try:
                member = archive.read(info)
            except (zipfile.BadZipFile, zlib.error, OSError, NotImplementedError) as exc:
                raise ParseError(f"ZIP member {info.filename!r} can't be read: {exc}") from exc
            if member.lstrip()[:1] != b"<":
                continue  # not XML (a readme, an empty file): nothing to parse
            try:
                documents.extend(
                    parse_document(part, incremental=incremental)
                    for part in split_documents(member)
                )
            except ParseError as exc:
                raise ParseError(f"ZIP member {info.filename!r}: {exc}") from exc
    if not documents:
        listed = ", ".join(repr(name) for name in names[:5]) or "no files"
        more = f" and {len(names) - 5} more" if len(names) > 5 else ""
        raise ParseError(
            f"ZIP answer holds no ENTSO-E XML document ({len(names)} member(s): {listed}{more})"
        )
    return documents
