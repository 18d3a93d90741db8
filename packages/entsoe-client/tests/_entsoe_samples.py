"""Helpers for the parser tests: the recorded platform samples and an independent reference.

The reference (``reference_series``) reads documents with the standard library's
``xml.etree.ElementTree`` and computes every point the slow, obvious way: one slot at a time,
sub-day steps as ``start + k * resolution`` by multiplication, day and longer steps as local
dates (``date + k days`` or the first of month ``m + k``) turned into that date's midnight in
the market's zone with ``zoneinfo``, a dict lookup per slot for A03 forward-filling. It shares
no code with ``entsoe_client._parser`` or ``entsoe_client._time`` (the area's zone name comes
from the area table, nothing else).

Test modules import this file after putting its folder on ``sys.path`` (pytest runs with
``--import-mode=importlib``, which does not).
"""

from __future__ import annotations

import csv
import os
import re
import xml.etree.ElementTree as ET
from calendar import monthrange
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from entsoe_client import Area

SAMPLES_DIR = Path(
    os.environ.get(
        "ENTSOE_SAMPLES_DIR",
        Path(__file__).resolve().parents[3] / "testdata" / "entsoe-samples",
    )
)
ENERGIEID_DIR = SAMPLES_DIR / "EnergieID__entsoe-py"

VALUE_ORDER = (
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


@dataclass(frozen=True)
class Sample:
    path: Path
    root_element: str
    document_type: str
    curve_type: str
    n_points: int
    notes: str

    @property
    def id(self) -> str:
        return self.path.relative_to(SAMPLES_DIR).as_posix()

    def read(self) -> bytes:
        return self.path.read_bytes()


def index_samples() -> list[Sample]:
    """Every row of INDEX.tsv (empty when the samples folder is missing)."""
    index = SAMPLES_DIR / "INDEX.tsv"
    if not index.exists():
        return []
    with index.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [
        Sample(
            path=SAMPLES_DIR / row["file"],
            root_element=row["root_element"],
            document_type=row["documentType"],
            curve_type=row["curveType"],
            n_points=int(row["n_points"]),
            notes=row["notes"],
        )
        for row in rows
    ]


def energieid_samples() -> list[Sample]:
    """The EnergieID demo answers listed in their MANIFEST.tsv (not in INDEX.tsv)."""
    manifest = ENERGIEID_DIR / "MANIFEST.tsv"
    if not manifest.exists():
        return []
    with manifest.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [
        Sample(
            path=ENERGIEID_DIR / row["path"],
            root_element=row["root"],
            document_type=row["type"],
            curve_type=",".join(re.findall(r"'(A0\d)'", row["curveType"])),
            n_points=int(row["Points"]),
            notes=row["origin"],
        )
        for row in rows
    ]


def split_concatenated(data: bytes) -> list[bytes]:
    """Multi-document .txt samples: split on ``<?xml``."""
    parts = data.split(b"<?xml")
    return [b"<?xml" + part for part in parts if part.strip()]


# --------------------------------------------------------------------------------------------
# Reference implementation


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: ET.Element, name: str) -> ET.Element | None:
    for child in element:
        if _local(child.tag) == name:
            return child
    return None


def _child_text(element: ET.Element, name: str) -> str | None:
    child = _child(element, name)
    if child is None or child.text is None or not child.text.strip():
        return None
    return child.text.strip()


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.strip()).astimezone(UTC)


@dataclass(frozen=True)
class LocalStep:
    """``days`` local days or ``months`` months, on the calendar of ``zone``."""

    days: int
    months: int
    zone: ZoneInfo


Step = timedelta | LocalStep

ZONES_TRIED = ("Europe/Brussels", "Europe/London", "Europe/Helsinki", "Europe/Istanbul", "UTC")


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def _market_zone(start: datetime, end: datetime, area_zone: str | None) -> ZoneInfo:
    names = ([area_zone] if area_zone else []) + list(ZONES_TRIED)
    for name in names:
        zone = ZoneInfo(name)
        if _midnight(start.astimezone(zone).date(), zone) == start and (
            _midnight(end.astimezone(zone).date(), zone) == end
        ):
            return zone
    return ZoneInfo(area_zone or "UTC")


def _step(resolution: str, start: datetime, end: datetime, area_zone: str | None) -> Step:
    fixed = {
        r"PT(\d+)M": lambda n: timedelta(minutes=n),
        r"PT(\d+)H": lambda n: timedelta(hours=n),
    }
    for pattern, make in fixed.items():
        match = re.fullmatch(pattern, resolution)
        if match:
            return make(int(match.group(1)))
    local = {r"P(\d+)D": (1, 0), r"P(\d+)W": (7, 0), r"P(\d+)M": (0, 1), r"P(\d+)Y": (0, 12)}
    for pattern, (days, months) in local.items():
        match = re.fullmatch(pattern, resolution)
        if match:
            n = int(match.group(1))
            return LocalStep(days * n, months * n, _market_zone(start, end, area_zone))
    raise AssertionError(f"reference: unknown resolution {resolution}")


def _boundary(start: datetime, step: Step, k: int) -> datetime:
    if isinstance(step, timedelta):
        return start + step * k
    first = start.astimezone(step.zone).date()
    if step.days:
        return _midnight(first + timedelta(days=step.days * k), step.zone)
    index = first.month - 1 + step.months * k
    year, month = first.year + index // 12, index % 12 + 1
    return _midnight(date(year, month, min(first.day, monthrange(year, month)[1])), step.zone)


PRICES = tuple(name for name in VALUE_ORDER if name.endswith("rice.amount"))


@dataclass(frozen=True)
class RefPeriod:
    start: datetime
    end: datetime
    resolution: str
    step: Step
    present: dict[int, tuple[float, float | None]]
    slots: int
    point_elements: int


def _series_zone(series: ET.Element, document_domain: str | None) -> str | None:
    for name in (
        "biddingZone_Domain.mRID",
        "inBiddingZone_Domain.mRID",
        "outBiddingZone_Domain.mRID",
        "in_Domain.mRID",
        "out_Domain.mRID",
    ):
        eic = _child_text(series, name)
        area = Area.from_eic(eic) if eic else None
        if area is not None:
            return area.tz_name
    area = Area.from_eic(document_domain) if document_domain else None
    return area.tz_name if area is not None else None


def _periods(series: ET.Element, area_zone: str | None) -> list[RefPeriod]:
    elements = [c for c in series if _local(c.tag) in ("Period", "Available_Period")]
    if not elements:
        elements = [c for c in series if _local(c.tag) == "WindPowerFeedin_Period"]
    periods = []
    for period in elements:
        interval = _child(period, "timeInterval")
        if interval is not None:
            start_text = _child_text(interval, "start")
            end_text = _child_text(interval, "end")
        else:
            start_text = _child_text(period, "timeInterval.start")
            end_text = _child_text(period, "timeInterval.end")
        assert start_text
        assert end_text
        start, end = _time(start_text), _time(end_text)
        resolution = _child_text(period, "resolution")
        assert resolution
        step = _step(resolution, start, end, area_zone)
        slots = 0
        while _boundary(start, step, slots + 1) <= end:
            slots += 1
        if slots == 0:  # shorter than one step: one position covering the Period
            step = end - start
            slots = 1
        assert _boundary(start, step, slots) == end, "reference: not a whole number of steps"
        points = [c for c in period if _local(c.tag) == "Point"]
        value_name = price_name = None
        if points:
            names = [_local(c.tag) for c in points[0]]
            value_name = next((n for n in VALUE_ORDER if n in names), None)
            price_name = next((n for n in PRICES if n in names), None)
        present: dict[int, tuple[float, float | None]] = {}
        for point in points:
            position = _child_text(point, "position")
            value = _child_text(point, value_name) if value_name else None
            price = _child_text(point, price_name) if price_name else None
            if position is None or value is None:
                continue
            present[int(position)] = (float(value), float(price) if price is not None else None)
        periods.append(RefPeriod(start, end, resolution, step, present, slots, len(points)))
    return periods


RefPoint = tuple[datetime, datetime, float, int, float | None]


@dataclass(frozen=True)
class Reference:
    """What the reference makes of one document."""

    series: list[list[RefPoint]]
    """Points of every series (one list per series and resolution), computed slot by slot."""
    omitted: int
    """Positions of A03 Periods the platform left out (forward-filled), trailing ones up to the
    Period end included."""
    point_elements: int
    """``<Point>`` elements in the Periods read (how INDEX.tsv counts ``n_points``)."""
    empty_points: int
    """``<Point>`` elements without a position or a value."""
    beyond: int = 0
    """Points at positions beyond their Period's end (dropped)."""


def reference(xml: bytes, *, blocks: bool = False) -> Reference:
    """Read one document the slow, obvious way (``blocks``: A03 as variable-sized blocks)."""
    root = ET.fromstring(xml)
    domain = None
    for name in ("area_Domain.mRID", "controlArea_Domain.mRID", "domain.mRID"):
        domain = domain or _child_text(root, name)
    result = []
    omitted = elements = present_count = beyond = 0
    for series in root:
        if _local(series.tag) not in ("TimeSeries", "Bid_TimeSeries"):
            continue
        curve = _child_text(series, "curveType") or "A01"
        by_resolution: dict[str, list[RefPoint]] = {}
        for period in _periods(series, _series_zone(series, domain)):
            points = by_resolution.setdefault(period.resolution, [])
            elements += period.point_elements
            present_count += len(period.present)
            step = period.step
            inside = {p: v for p, v in period.present.items() if p <= period.slots}
            beyond += len(period.present) - len(inside)
            if not inside:
                continue
            positions = sorted(inside)
            if curve != "A03":
                for position in positions:
                    value, price = inside[position]
                    points.append(
                        (
                            _boundary(period.start, step, position - 1),
                            _boundary(period.start, step, position),
                            value,
                            position,
                            price if price is not None else None,
                        )
                    )
                continue
            last = period.slots
            omitted += (last - positions[0] + 1) - len(positions)
            if blocks:
                edges = [*positions, last + 1]
                for i, position in enumerate(positions):
                    value, price = inside[position]
                    points.append(
                        (
                            _boundary(period.start, step, position - 1),
                            _boundary(period.start, step, edges[i + 1] - 1),
                            value,
                            position,
                            price,
                        )
                    )
                continue
            current = None
            for position in range(positions[0], last + 1):
                current = inside.get(position, current)
                assert current is not None
                points.append(
                    (
                        _boundary(period.start, step, position - 1),
                        _boundary(period.start, step, position),
                        current[0],
                        position,
                        current[1],
                    )
                )
        if not by_resolution:
            by_resolution[""] = []
        for points in by_resolution.values():
            points.sort(key=lambda point: point[0])
            result.append(points)
    return Reference(result, omitted, elements, elements - present_count, beyond)


# --------------------------------------------------------------------------------------------
# Building small documents for edge cases

GL_NS = "urn:iec62325.351:tc57wg16:451-6:generationloaddocument:3:0"
PUBLICATION_NS_70 = "urn:iec62325.351:tc57wg16:451-3:publicationdocument:7:0"
PUBLICATION_NS_73 = "urn:iec62325.351:tc57wg16:451-3:publicationdocument:7:3"
ACKNOWLEDGEMENT_NS = "urn:iec62325.351:tc57wg16:451-1:acknowledgementdocument:7:0"


def z(moment: datetime) -> str:
    """A timestamp the way the platform writes it: ``2024-03-30T23:00Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def period_xml(
    start: datetime,
    end: datetime,
    resolution: str,
    points: dict[int, float] | list[float],
    value_tag: str = "quantity",
) -> str:
    """One ``<Period>``; a list gives positions 1..n, a dict exactly the positions given."""
    items = points.items() if isinstance(points, dict) else enumerate(points, start=1)
    body = "".join(
        f"<Point><position>{position}</position><{value_tag}>{value!r}</{value_tag}></Point>"
        for position, value in items
    )
    return (
        f"<Period><timeInterval><start>{z(start)}</start><end>{z(end)}</end></timeInterval>"
        f"<resolution>{resolution}</resolution>{body}</Period>"
    )


def series_xml(
    periods: list[str],
    *,
    mrid: str = "1",
    curve_type: str | None = "A01",
    business_type: str = "A04",
    extra: str = '<outBiddingZone_Domain.mRID codingScheme="A01">10Y1001A1001A82H'
    "</outBiddingZone_Domain.mRID><quantity_Measure_Unit.name>MAW</quantity_Measure_Unit.name>",
) -> str:
    curve = f"<curveType>{curve_type}</curveType>" if curve_type else ""
    return (
        f"<TimeSeries><mRID>{mrid}</mRID><businessType>{business_type}</businessType>"
        f"<objectAggregation>A01</objectAggregation>{extra}{curve}{''.join(periods)}</TimeSeries>"
    )


def document_xml(
    series: list[str],
    *,
    start: datetime,
    end: datetime,
    root: str = "GL_MarketDocument",
    namespace: str | None = GL_NS,
    document_type: str = "A65",
    process_type: str | None = "A16",
    revision: int | None = 1,
    mrid: str = "doc-1",
) -> bytes:
    xmlns = f' xmlns="{namespace}"' if namespace else ""
    interval = (
        "period.timeInterval"
        if root == "Publication_MarketDocument"
        else ("time_Period.timeInterval")
    )
    revision_xml = f"<revisionNumber>{revision}</revisionNumber>" if revision is not None else ""
    process = f"<process.processType>{process_type}</process.processType>" if process_type else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<{root}{xmlns}><mRID>{mrid}</mRID>'
        f"{revision_xml}<type>{document_type}</type>{process}"
        f"<createdDateTime>2024-11-01T10:00:00Z</createdDateTime>"
        f"<{interval}><start>{z(start)}</start><end>{z(end)}</end></{interval}>"
        f"{''.join(series)}</{root}>"
    ).encode()


def acknowledgement_xml(text: str = "No matching data found", code: str = "999") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<Acknowledgement_MarketDocument xmlns="{ACKNOWLEDGEMENT_NS}">'
        f"<mRID>ack-1</mRID><createdDateTime>2024-11-01T10:00:00Z</createdDateTime>"
        f"<Reason><code>{code}</code><text>{text}</text></Reason>"
        f"</Acknowledgement_MarketDocument>"
    ).encode()


def load_document(start: datetime, end: datetime, values: list[float], **kwargs: object) -> bytes:
    """A GL A65 actual-load document with one PT15M A01 series (DE-LU)."""
    period = period_xml(start, end, "PT15M", values)
    return document_xml([series_xml([period])], start=start, end=end, **kwargs)  # type: ignore[arg-type]
