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
* A Point's interval is ``[start + (position - 1) * resolution, start + position * resolution)``
  from its Period's ``timeInterval/start``. Fixed resolutions (PT15M, PT60M, P1D, P7D, ...) step
  by a ``timedelta``; calendar ones (P1M, P3M, P1Y) by calendar months in UTC from the Period start
  (see ``entsoe_client._time``). Timestamps are aware UTC datetimes.
* The value is the Point's ``quantity`` or ``price.amount`` (balancing and other documents:
  ``imbalance_Price.amount``, ``procurement_Price.amount``, ... see ``VALUE_ELEMENTS``), read with
  ``float(text)``.
* curveType A03 (variable sized blocks; the default when absent is A01): a position the platform
  omitted repeats the previous value. Series are forward-filled up to the Period's end, trailing
  omitted positions included, so every position of the Period is present.
  ``Unavailability_MarketDocument`` is the exception: its A03 Periods often span years at PT1M
  with a single Point, so each Point is kept as one block from its position to the next given
  position (or the Period end) instead of being expanded to millions of minutes.
* curveType A01 (and any other curve type) documents that nevertheless skip positions (a
  real-world quirk) give just the Points present: nothing is invented for missing positions.
* Points out of position order are sorted; a repeated position keeps its last value.
  Positions beyond the Period's end (a quirk of edited answers) are kept, not dropped.
* A Point without a value (``<quantity/>``) is skipped.
* Periods of one series are concatenated in time order.

Performance: the XML is parsed once with ``lxml.etree.fromstring``; Period metadata is read
element by element, but Point positions and values are pulled out per Period with two compiled
XPath ``text()`` queries (C speed, no per-Point Python element objects), converted with
``map(int)``/``map(float)``, and timestamps are computed by accumulating one ``timedelta``.
"""

from __future__ import annotations

import gc
import io
import threading
import zipfile
import zlib
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import repeat
from operator import attrgetter, lt
from typing import TYPE_CHECKING, Any, Final, cast

from lxml import etree

from entsoe_client._time import Resolution, add_months, parse_resolution, parse_timestamp
from entsoe_client.exceptions import ParseError
from entsoe_client.models import Acknowledgement, MarketDocument, Point, TimeSeries

if TYPE_CHECKING:
    from datetime import datetime

__all__ = [
    "ACKNOWLEDGEMENT_ROOT",
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

MAX_ZIP_MEMBER_BYTES: Final = 512 * 1024 * 1024
"""A ZIP member larger than this once unpacked is refused (protection against ZIP bombs)."""


# --------------------------------------------------------------------------------------------
# Public API


def parse_response(data: bytes | str) -> list[MarketDocument | Acknowledgement]:
    """Every document in a platform answer: one XML document, several concatenated ones, or a
    ZIP archive whose members are documents (outage and some balancing answers).

    Raises ``ParseError`` on malformed XML, an unsupported root, or a ZIP holding no document.
    """
    raw = _as_bytes(data)
    with _cyclic_gc_paused():
        if raw[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
            return _parse_zip(raw)
        return [parse_document(part) for part in split_documents(raw)]


def parse_document(data: bytes | str) -> MarketDocument | Acknowledgement:
    """One XML document: a ``MarketDocument`` with its series, or an ``Acknowledgement``.

    ``str`` input is encoded as UTF-8 first. External entities and DTDs are never loaded.
    Raises ``ParseError`` on malformed XML or a root element that is not a supported document.
    """
    raw = _as_bytes(data).lstrip()
    if not raw:
        raise ParseError("empty answer: expected an ENTSO-E XML document")
    if raw[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        raise ParseError("this is a ZIP archive, not one XML document: use parse_response()")
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


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a document's points are built.

    Parsing allocates one object per point and creates no reference cycles, yet every few
    hundred allocations make the collector scan the young objects, and from time to time the
    whole heap, finding nothing: about a third of the time of a large answer. Reference
    counting still frees everything at once; the collector is switched back on afterwards (if
    it was on) and catches up on its next pass.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


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
        self.queries: dict[tuple[str, str], _PointQueries] = {}


class _PointQueries:
    """Two compiled XPath queries over a Period: the text of every Point's position and value."""

    __slots__ = ("positions", "values")

    def __init__(self, namespace: str, value_name: str) -> None:
        prefix = "e:" if namespace else ""
        ns = {"e": namespace} if namespace else None
        self.positions = etree.XPath(
            f"{prefix}Point/{prefix}position/text()", namespaces=ns, smart_strings=False
        )
        self.values = etree.XPath(
            f"{prefix}Point/{prefix}{value_name}/text()", namespaces=ns, smart_strings=False
        )


_STATE = _State()


def _queries(namespace: str, value_name: str) -> _PointQueries:
    cache = _STATE.queries
    key = (namespace, value_name)
    found = cache.get(key)
    if found is None:
        found = cache[key] = _PointQueries(namespace, value_name)
    return found


def _as_bytes(data: bytes | str) -> bytes:
    if isinstance(data, str):
        return data.encode("utf-8")
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    raise TypeError(f"expected bytes or str, got {type(data).__name__}")


def _preview(raw: bytes) -> str:
    text = raw[:80].decode("utf-8", errors="replace")
    return repr(" ".join(text.split()))


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
    mrid = ""
    revision = 1  # the platform's first revision; a few documents omit the element
    created: datetime | None = None
    document_type = ""
    process_type: str | None = None
    period_start: datetime | None = None
    period_end: datetime | None = None
    domain: str | None = None
    doc_status: str | None = None
    series: list[TimeSeries] = []
    blocks = root_name in _BLOCK_ROOTS
    for child in root:
        name = _local(child.tag)
        if name is None:
            continue
        if name in _SERIES_TAGS:
            series.append(_parse_series(child, blocks))
        elif name == "mRID":
            mrid = _text(child)
        elif name == "revisionNumber":
            revision = _int(_text(child), "revisionNumber")
        elif name == "type":
            document_type = _text(child)
        elif name == "process.processType":
            process_type = _text(child) or None
        elif name == "createdDateTime":
            created = parse_timestamp(_text(child))
        elif name.endswith("timeInterval"):
            if period_start is None:
                period_start, period_end = _interval(child)
        elif name.endswith("timeInterval.start"):
            period_start = period_start or parse_timestamp(_text(child))
        elif name.endswith("timeInterval.end"):
            period_end = period_end or parse_timestamp(_text(child))
        elif name in _DOCUMENT_DOMAINS:
            domain = domain or _text(child) or None
        elif name == "docStatus":
            doc_status = _text(child[0]) if len(child) else _text(child)
    return MarketDocument(
        mrid=mrid,
        revision_number=revision,
        created_at=created,
        document_type=document_type,
        process_type=process_type,
        period_start=period_start,
        period_end=period_end,
        root_element=root_name,
        series=series,
        domain=domain,
        doc_status=doc_status or None,
    )


# --------------------------------------------------------------------------------------------
# Series


def _parse_series(element: etree._Element, blocks: bool) -> TimeSeries:
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
                if _local(part.tag) == "psrType" and "psr_type" not in fields:
                    fields["psr_type"] = _text(part)
        elif name == "Asset_RegisteredResource" and "registered_resource" not in fields:
            for part in child:
                if _local(part.tag) == "mRID":
                    fields["registered_resource"] = _text(part)
                    break

    periods = periods or fallback_periods
    mrid = fields.get("mrid", "")
    curve_type = fields.get("curve_type") or "A01"
    points: list[Point] = []
    resolutions: list[str] = []
    ordered = True
    for period in periods:
        period_points, resolution = _parse_period(period, curve_type, blocks, mrid)
        if resolution not in resolutions:
            resolutions.append(resolution)
        if period_points and points and period_points[0].start < points[-1].end:
            ordered = False
        points.extend(period_points)
    if not ordered:
        points.sort(key=attrgetter("start"))

    in_domain = fields.get("in_domain") or None
    out_domain = fields.get("out_domain") or None
    # The zone a series is about: biddingZone_Domain, else the GL document's in/outBiddingZone,
    # else in_Domain when it equals out_Domain (prices); flows between two zones have none.
    bidding_zone = fields.get("bidding_zone") or fields.get("gl_zone") or None
    if bidding_zone is None and in_domain is not None and in_domain == out_domain:
        bidding_zone = in_domain
    sequence = fields.get("classification_sequence")
    return TimeSeries(
        mrid=mrid,
        business_type=fields.get("business_type") or None,
        curve_type=curve_type,
        resolution=resolutions[0] if resolutions else "",
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
        resolutions=tuple(resolutions),
        registered_resource=fields.get("registered_resource") or None,
        flow_direction=fields.get("flow_direction") or None,
        contract_type=fields.get("contract_type") or None,
    )


# --------------------------------------------------------------------------------------------
# Periods and points


def _parse_period(
    period: etree._Element, curve_type: str, blocks: bool, mrid: str
) -> tuple[list[Point], str]:
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
        raise ParseError(f"a Period of TimeSeries {mrid!r} has no resolution")
    if start is None:
        raise ParseError(f"a Period of TimeSeries {mrid!r} has no timeInterval start")
    resolution = parse_resolution(resolution_text)
    if first_point is None:
        return [], resolution.text

    # In schema order every child from the first Point on is a Point.
    positions, values = _read_points(period, first_point, len(period) - first_index, mrid)
    if not positions:
        return [], resolution.text
    slots = resolution.slots(start, end) if end is not None else 0
    return _make_points(positions, values, resolution, start, slots, curve_type, blocks, mrid), (
        resolution.text
    )


def _value_name(point: etree._Element) -> tuple[str, str] | None:
    """(namespace, local name) of the value element of a Point, or None when it has none."""
    found: dict[str, etree._Element] = {}
    for child in point:
        name = _local(child.tag)
        if name is not None:
            found.setdefault(name, child)
    for name in VALUE_ELEMENTS:
        if name in found:
            return _namespace(str(found[name].tag)), name
    for name, child in found.items():  # anything else numeric: first wins
        if name == "position":
            continue
        try:
            float(_text(child))
        except ValueError:
            continue
        return _namespace(str(child.tag)), name
    return None


def _read_points(
    period: etree._Element, first_point: etree._Element, count: int, mrid: str
) -> tuple[list[int], list[float]]:
    """Positions and values of a Period's ``count`` Points, pulled out with two XPath queries;
    Point by Point when some Point lacks a position or value (or there are other children)."""
    value = _value_name(first_point)
    if value is None:
        return [], []
    namespace, value_name = value
    queries = _queries(namespace, value_name)
    position_texts = cast(list[str], queries.positions(period))
    value_texts = cast(list[str], queries.values(period))
    if len(position_texts) == count == len(value_texts):
        try:
            positions = list(map(int, position_texts))
        except ValueError:
            raise ParseError(_bad_number("position", position_texts, int, mrid)) from None
        try:
            values = list(map(float, value_texts))
        except ValueError:
            raise ParseError(_bad_number(value_name, value_texts, float, mrid)) from None
        return positions, values
    return _read_points_slowly(period, first_point.tag, namespace, value_name, mrid)


def _read_points_slowly(
    period: etree._Element, point_tag: str, namespace: str, value_name: str, mrid: str
) -> tuple[list[int], list[float]]:
    """Point by Point, for Periods where some Point lacks a position or a value."""
    prefix = "{" + _namespace(point_tag) + "}" if point_tag[:1] == "{" else ""
    value_tag = ("{" + namespace + "}" if namespace else "") + value_name
    positions: list[int] = []
    values: list[float] = []
    for point in period.iterchildren(point_tag):
        position_element = point.find(prefix + "position")
        value_element = point.find(value_tag)
        if position_element is None:
            raise ParseError(f"a Point of TimeSeries {mrid!r} has no position")
        if value_element is None or not _text(value_element):
            continue  # no value: skipped (documented)
        positions.append(_int(_text(position_element), f"TimeSeries {mrid!r}: Point position"))
        try:
            values.append(float(_text(value_element)))
        except ValueError:
            raise ParseError(
                f"TimeSeries {mrid!r}: {value_name} {_text(value_element)!r} is not a number"
            ) from None
    return positions, values


def _bad_number(what: str, texts: list[str], kind: type, mrid: str) -> str:
    for text in texts:
        try:
            kind(text)
        except ValueError:
            return f"TimeSeries {mrid!r}: {what} {text.strip()!r} is not a number"
    return f"TimeSeries {mrid!r}: unreadable {what}"  # pragma: no cover


def _make_points(
    positions: list[int],
    values: list[float],
    resolution: Resolution,
    start: datetime,
    slots: int,
    curve_type: str,
    blocks: bool,
    mrid: str,
) -> list[Point]:
    count = len(positions)
    contiguous = (
        positions[0] == 1 and positions[-1] == count and positions == list(range(1, count + 1))
    )
    if not contiguous:
        if positions[0] < 1 or min(positions) < 1:
            raise ParseError(f"TimeSeries {mrid!r}: Point position {min(positions)} is below 1")
        if not all(map(lt, positions, positions[1:])):
            merged = dict(zip(positions, values, strict=True))  # a repeated position: last wins
            positions = sorted(merged)
            values = [merged[position] for position in positions]
            count = len(positions)
    expand = curve_type == "A03"
    if contiguous and (not expand or count >= slots):
        bounds = resolution.boundaries(start, count)
        return _new_points(bounds[:-1], bounds[1:], values, positions)
    if not expand:
        # A01 (or A02/A04/A05) with positions missing: just the Points present.
        bounds = resolution.boundaries(start, positions[-1])
        starts = [bounds[position - 1] for position in positions]
        ends = [bounds[position] for position in positions]
        return _new_points(starts, ends, values, positions)
    last = max(slots, positions[-1])
    if blocks:
        return _blocks(positions, values, resolution, start, last)
    # A03: forward-fill every omitted position up to the Period's end.
    bounds = resolution.boundaries(start, last)
    first = positions[0]
    filled: list[float] = []
    extend = filled.extend
    for position, following, value in zip(
        positions, [*positions[1:], last + 1], values, strict=True
    ):
        extend(repeat(value, following - position))
    return _new_points(
        bounds[first - 1 : last], bounds[first : last + 1], filled, range(first, last + 1)
    )


_POINT_SLOTS: Final[tuple[Any, ...]] = tuple(
    Point.__dict__[name] for name in ("start", "end", "value", "position")
)
"""The member descriptors of ``Point``'s slots, in field order."""


def _new_points(
    starts: Sequence[datetime],
    ends: Sequence[datetime],
    values: Sequence[float],
    positions: Iterable[int],
) -> list[Point]:
    """``[Point(s, e, v, p) for ...]`` without a Python frame per Point.

    A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``, a
    Python-level call per field and the biggest cost of a large answer. Here the instances
    are allocated and each slot filled column by column by its descriptor, at C speed; the
    result is the same object ``Point(...)`` builds (same slots, equal, same hash).
    """
    count = min(len(starts), len(ends), len(values))  # as map(Point, ...) stops at the shortest
    points: list[Point] = list(map(object.__new__, repeat(Point, count)))
    for field, column in zip(_POINT_SLOTS, (starts, ends, values, positions), strict=True):
        deque(map(field.__set__, points, column), maxlen=0)
    return points


def _blocks(
    positions: list[int], values: list[float], resolution: Resolution, start: datetime, last: int
) -> list[Point]:
    """A03 Points as variable-sized blocks: each lasts until the next given position."""

    def boundary(index: int) -> datetime:
        if resolution.delta is not None:
            return start + resolution.delta * index
        return add_months(start, index * resolution.months)

    edges = [*positions, last + 1]
    return [
        Point(boundary(edges[i] - 1), boundary(edges[i + 1] - 1), values[i], positions[i])
        for i in range(len(positions))
    ]


# --------------------------------------------------------------------------------------------
# ZIP answers


def _parse_zip(raw: bytes) -> list[MarketDocument | Acknowledgement]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except zipfile.BadZipFile as exc:
        raise ParseError(f"corrupt ZIP answer: {exc}") from exc
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
                documents.extend(parse_document(part) for part in split_documents(member))
            except ParseError as exc:
                raise ParseError(f"ZIP member {info.filename!r}: {exc}") from exc
    if not documents:
        listed = ", ".join(repr(name) for name in names[:5]) or "no files"
        more = f" and {len(names) - 5} more" if len(names) > 5 else ""
        raise ParseError(
            f"ZIP answer holds no ENTSO-E XML document ({len(names)} member(s): {listed}{more})"
        )
    return documents
