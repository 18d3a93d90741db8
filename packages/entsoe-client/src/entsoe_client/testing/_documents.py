"""Valid platform documents for any area, data type and range, generated on demand.

Values are a pure function of the point's start (``value_at``; ``calendar_value_at`` for the
minimum/maximum forecasts), so a test can check any point of any answer without keeping the
answer. The layout follows the real platform: prices and day-ahead forecasts come as one series
per market day (whole days, even when the request starts mid-day), other data as one series over
the requested range on the resolution's grid. The coarse forecasts have the shapes recorded
answers show (``CALENDAR_SHAPES``), in whole local days, weeks and years for any range that
overlaps them (Brussels time):

* week-ahead load forecast (A65/A31): P1D, a minimum (A60) and a maximum (A61) series per
  Monday week;
* month- and year-ahead load forecasts (A65/A32, A65/A33): P7D Monday weeks, minimum and
  maximum, one Period over the weeks the range overlaps;
* year-ahead forecast margin (A70/A33): P1Y (business type A91), one Period per local year.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

MARKET_TIME_ZONE = ZoneInfo("Europe/Brussels")
GL_NAMESPACE = "urn:iec62325.351:tc57wg16:451-6:generationloaddocument:3:0"
PUBLICATION_NAMESPACE = "urn:iec62325.351:tc57wg16:451-3:publicationdocument:7:3"
ACK_NAMESPACE = "urn:iec62325.351:tc57wg16:451-1:acknowledgementdocument:7:0"

_STEPS = {
    "PT15M": timedelta(minutes=15),
    "PT30M": timedelta(minutes=30),
    "PT60M": timedelta(hours=1),
    "P1D": timedelta(days=1),
    "P7D": timedelta(days=7),
}
_DAILY_SERIES = {("A44", None), ("A65", "A01"), ("A69", "A01")}
_DEFAULT_RESOLUTION: dict[tuple[str, str | None], str] = {
    ("A68", "A33"): "P1Y",
}
CALENDAR_SHAPES: dict[tuple[str, str | None], tuple[str, tuple[str, ...], str]] = {
    ("A65", "A31"): ("P1D", ("A60", "A61"), "week"),
    ("A65", "A32"): ("P7D", ("A60", "A61"), "weeks"),
    ("A65", "A33"): ("P7D", ("A60", "A61"), "weeks"),
    ("A70", "A33"): ("P1Y", ("A91",), "year"),
}
"""(documentType, processType) -> (resolution, business types, Period layout) of the coarse
forecasts: "week" one Period per Monday week, "weeks" one Period over all Monday weeks the range
overlaps, "year" one Period per local year."""
MAXIMUM_OFFSET = 500.0
"""How much a maximum (A61) point exceeds the minimum (A60) of the same interval."""
_IN_DOMAIN_TYPES = {"A68", "A69", "A73", "A75"}
_PSR_TYPES = {
    "A75": ("B16", "B19"),
    "A73": ("B16", "B19"),
    "A69": ("B16", "B19"),
    "A68": ("B16", "B19"),
}


_GRID_ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)


def parse_period(value: str) -> datetime:
    """``yyyyMMddHHmm`` (UTC) as an aware datetime."""
    return datetime.strptime(value, "%Y%m%d%H%M").replace(tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def value_at(start: datetime) -> float:
    """The value every generated A01 point starting at ``start`` carries (unique per minute)."""
    minutes = int(start.timestamp() // 60)
    return 1000 + (minutes % 1_000_000) / 10


def a03_value_at(start: datetime, step: timedelta) -> float:
    """The value of a point of a generated A03 curve with resolution ``step``.

    Values hold for two steps of a fixed grid (independent of the request), so about every
    second position repeats its predecessor, is omitted from the document and must be
    forward-filled by the reader, also at a Period's end.
    """
    index = (start - _GRID_ORIGIN) // step
    return value_at(_GRID_ORIGIN + step * (index - index % 2))


def calendar_value_at(start: datetime, business_type: str) -> float:
    """The value of a generated coarse-forecast point: ``value_at``, plus ``MAXIMUM_OFFSET``
    for a maximum (A61) series."""
    return value_at(start) + (MAXIMUM_OFFSET if business_type == "A61" else 0.0)


def default_resolution(document_type: str, process_type: str | None) -> str | None:
    """The resolution the real platform uses for coarse data (``None``: caller's choice)."""
    shape = CALENDAR_SHAPES.get((document_type, process_type))
    if shape is not None:
        return shape[0]
    return _DEFAULT_RESOLUTION.get((document_type, process_type))


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=MARKET_TIME_ZONE).astimezone(UTC)


def _local_date(moment: datetime) -> date:
    return moment.astimezone(MARKET_TIME_ZONE).date()


def _calendar_periods(start: datetime, end: datetime, layout: str) -> list[list[datetime]]:
    """Each Period as its list of point boundaries (local midnights), covering every local
    day, Monday week or year that ``[start, end)`` overlaps."""
    if layout == "year":
        years = range(
            _local_date(start).year, _local_date(end - timedelta(microseconds=1)).year + 1
        )
        return [[_midnight(date(year, 1, 1)), _midnight(date(year + 1, 1, 1))] for year in years]
    first = _local_date(start)
    monday = first - timedelta(days=first.weekday())
    weeks: list[date] = [monday]
    while _midnight(weeks[-1] + timedelta(days=7)) < end:
        weeks.append(weeks[-1] + timedelta(days=7))
    if layout == "weeks":
        return [[_midnight(day) for day in [*weeks, weeks[-1] + timedelta(days=7)]]]
    return [[_midnight(week + timedelta(days=k)) for k in range(8)] for week in weeks]


def _calendar_series(
    params: Mapping[str, str], area: str, start: datetime, end: datetime
) -> list[str]:
    shape = CALENDAR_SHAPES[(params.get("documentType", ""), params.get("processType"))]
    resolution, business_types, layout = shape
    series: list[str] = []
    for bounds in _calendar_periods(start, end, layout):
        for business_type in business_types:
            points = "".join(
                _point_xml(k, calendar_value_at(point_start, business_type), "quantity")
                for k, point_start in enumerate(bounds[:-1], start=1)
            )
            period = (
                f"<Period><timeInterval><start>{_iso(bounds[0])}</start><end>{_iso(bounds[-1])}"
                f"</end></timeInterval><resolution>{resolution}</resolution>{points}</Period>"
            )
            series.append(
                f"<TimeSeries><mRID>{len(series) + 1}</mRID><businessType>{business_type}"
                "</businessType><objectAggregation>A01</objectAggregation>"
                f'<outBiddingZone_Domain.mRID codingScheme="A01">{area}'
                "</outBiddingZone_Domain.mRID>"
                "<quantity_Measure_Unit.name>MAW</quantity_Measure_Unit.name>"
                f"<curveType>A01</curveType>{period}</TimeSeries>"
            )
    return series


def _local_midnight(moment: datetime) -> datetime:
    local = moment.astimezone(MARKET_TIME_ZONE)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def _next_local_midnight(day_start: datetime) -> datetime:
    local = day_start.astimezone(MARKET_TIME_ZONE).replace(tzinfo=None) + timedelta(days=1)
    return local.replace(tzinfo=MARKET_TIME_ZONE).astimezone(UTC)


def _local_year(moment: datetime, years: int = 0) -> datetime:
    local = moment.astimezone(MARKET_TIME_ZONE)
    return datetime(local.year + years, 1, 1, tzinfo=MARKET_TIME_ZONE).astimezone(UTC)


def _periods(
    start: datetime, end: datetime, resolution: str, daily: bool
) -> list[tuple[datetime, datetime]]:
    """The Periods (each one series) that cover ``[start, end)`` the way the platform would."""
    if resolution == "P1Y":
        periods = []
        year = _local_year(start)
        while year < end:
            following = _local_year(year + timedelta(days=1), 1)
            periods.append((year, following))
            year = following
        return periods
    if daily:
        periods = []
        day = _local_midnight(start)
        while day < end:
            following = _next_local_midnight(day)
            periods.append((day, following))
            day = following
        return periods
    step = _STEPS[resolution]
    origin = (
        _local_midnight(start) if step >= timedelta(days=1) else datetime(2000, 1, 1, tzinfo=UTC)
    )
    first = origin + step * ((start - origin) // step)
    last = origin + step * -((origin - end) // step)
    return [(first, last)]


def _point_xml(position: int, value: float, value_tag: str) -> str:
    return f"<Point><position>{position}</position><{value_tag}>{value!r}</{value_tag}></Point>"


def _period_xml(
    start: datetime, end: datetime, resolution: str, curve_type: str, value_tag: str
) -> str:
    parts = [
        f"<Period><timeInterval><start>{_iso(start)}</start><end>{_iso(end)}</end>"
        f"</timeInterval><resolution>{resolution}</resolution>"
    ]
    if resolution == "P1Y":
        parts.append(_point_xml(1, value_at(start), value_tag))
    else:
        step = _STEPS[resolution]
        count = int((end - start) / step)
        previous: float | None = None
        for index in range(count):
            point_start = start + step * index
            if curve_type == "A03":
                value = a03_value_at(point_start, step)
                if value == previous:
                    continue
            else:
                value = value_at(point_start)
            parts.append(_point_xml(index + 1, value, value_tag))
            previous = value
    parts.append("</Period>")
    return "".join(parts)


def generate_document(
    params: Mapping[str, str],
    *,
    resolution: str = "PT60M",
    curve_type: str = "A01",
    revision: int = 1,
    mrid: str = "fake-document",
) -> bytes:
    """A document answering ``params`` (documentType, processType, domains, period)."""
    document_type = params.get("documentType", "A65")
    process_type = params.get("processType")
    start = parse_period(params["periodStart"])
    end = parse_period(params["periodEnd"])
    from entsoe_client.testing._catalogue_documents import catalogue_document, shape_for

    shape = shape_for(params)
    if shape is not None:  # generation, transmission and balancing in their real shapes
        return catalogue_document(
            params, shape, start=start, end=end, resolution=resolution, revision=revision, mrid=mrid
        )
    resolution = default_resolution(document_type, process_type) or resolution
    daily = (document_type, process_type) in _DAILY_SERIES and resolution in _STEPS
    daily = daily and _STEPS[resolution] < timedelta(days=1)
    publication = document_type in ("A44", "A11")
    value_tag = "price.amount" if document_type == "A44" else "quantity"
    area = (
        params.get("outBiddingZone_Domain")
        or params.get("in_Domain")
        or params.get("controlArea_Domain")
        or "10Y1001A1001A82H"
    )
    psr_types: Sequence[str | None] = (
        (params["psrType"],) if "psrType" in params else _PSR_TYPES.get(document_type, (None,))
    )
    calendar = (document_type, process_type) in CALENDAR_SHAPES
    periods = [] if calendar else _periods(start, end, resolution, daily)
    series_xml: list[str] = []
    if calendar:
        series_xml = _calendar_series(params, area, start, end)
        first_last = _calendar_periods(
            start, end, CALENDAR_SHAPES[(document_type, process_type)][2]
        )
        periods = [(first_last[0][0], first_last[-1][-1])]
    for psr_type in psr_types if not calendar else ():
        for period_start, period_end in periods:
            series_xml.append(
                _series_xml(
                    len(series_xml) + 1,
                    document_type,
                    params,
                    area,
                    psr_type,
                    curve_type,
                    _period_xml(period_start, period_end, resolution, curve_type, value_tag),
                )
            )
    first = periods[0][0] if periods else start
    last = periods[-1][1] if periods else end
    root = "Publication_MarketDocument" if publication else "GL_MarketDocument"
    namespace = PUBLICATION_NAMESPACE if publication else GL_NAMESPACE
    interval_tag = "period.timeInterval" if publication else "time_Period.timeInterval"
    process_xml = (
        f"<process.processType>{process_type}</process.processType>" if process_type else ""
    )
    body = (
        f'<?xml version="1.0" encoding="utf-8"?>\n<{root} xmlns="{namespace}">'
        f"<mRID>{escape(mrid)}</mRID><revisionNumber>{revision}</revisionNumber>"
        f"<type>{document_type}</type>{process_xml}"
        '<sender_MarketParticipant.mRID codingScheme="A01">10X1001A1001A450'
        "</sender_MarketParticipant.mRID>"
        "<sender_MarketParticipant.marketRole.type>A32</sender_MarketParticipant.marketRole.type>"
        '<receiver_MarketParticipant.mRID codingScheme="A01">10X1001A1001A450'
        "</receiver_MarketParticipant.mRID>"
        "<receiver_MarketParticipant.marketRole.type>A33"
        "</receiver_MarketParticipant.marketRole.type>"
        f"<createdDateTime>{_iso(datetime.now(UTC))}</createdDateTime>"
        f"<{interval_tag}><start>{_iso(first)}</start><end>{_iso(last)}</end></{interval_tag}>"
        f"{''.join(series_xml)}</{root}>"
    )
    return body.encode()


def _series_xml(
    number: int,
    document_type: str,
    params: Mapping[str, str],
    area: str,
    psr_type: str | None,
    curve_type: str,
    period_xml: str,
) -> str:
    if document_type == "A44":
        head = (
            "<auction.type>A01</auction.type><businessType>A62</businessType>"
            f'<in_Domain.mRID codingScheme="A01">{area}</in_Domain.mRID>'
            f'<out_Domain.mRID codingScheme="A01">{area}</out_Domain.mRID>'
            "<contract_MarketAgreement.type>A01</contract_MarketAgreement.type>"
            "<currency_Unit.name>EUR</currency_Unit.name>"
            "<price_Measure_Unit.name>MWH</price_Measure_Unit.name>"
        )
    elif document_type == "A11":
        out_area = params.get("out_Domain", area)
        head = (
            "<businessType>A66</businessType>"
            f'<in_Domain.mRID codingScheme="A01">{area}</in_Domain.mRID>'
            f'<out_Domain.mRID codingScheme="A01">{out_area}</out_Domain.mRID>'
            "<quantity_Measure_Unit.name>MAW</quantity_Measure_Unit.name>"
        )
    else:
        direction = (
            "inBiddingZone_Domain"
            if document_type in _IN_DOMAIN_TYPES
            else ("outBiddingZone_Domain")
        )
        business_type = "A01" if document_type in _IN_DOMAIN_TYPES else "A04"
        psr_xml = f"<MktPSRType><psrType>{psr_type}</psrType></MktPSRType>" if psr_type else ""
        head = (
            f"<businessType>{business_type}</businessType><objectAggregation>A08"
            "</objectAggregation>"
            f'<{direction}.mRID codingScheme="A01">{area}</{direction}.mRID>'
            "<quantity_Measure_Unit.name>MAW</quantity_Measure_Unit.name>"
            f"{psr_xml}"
        )
    return (
        f"<TimeSeries><mRID>{number}</mRID>{head}<curveType>{curve_type}</curveType>"
        f"{period_xml}</TimeSeries>"
    )


def acknowledgement(text: str, code: str = "999") -> bytes:
    """An Acknowledgement_MarketDocument in the platform's shape."""
    now = _iso(datetime.now(UTC))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<Acknowledgement_MarketDocument xmlns="{ACK_NAMESPACE}">'
        f"<mRID>fake-ack</mRID><createdDateTime>{now}</createdDateTime>"
        '<sender_MarketParticipant.mRID codingScheme="A01">10X1001A1001A450'
        "</sender_MarketParticipant.mRID>"
        "<sender_MarketParticipant.marketRole.type>A32</sender_MarketParticipant.marketRole.type>"
        '<receiver_MarketParticipant.mRID codingScheme="A01">10X1001A1001A450'
        "</receiver_MarketParticipant.mRID>"
        "<receiver_MarketParticipant.marketRole.type>A39"
        "</receiver_MarketParticipant.marketRole.type>"
        f"<received_MarketDocument.createdDateTime>{now}</received_MarketDocument.createdDateTime>"
        f"<Reason><code>{code}</code><text>{escape(text)}</text></Reason>"
        "</Acknowledgement_MarketDocument>"
    ).encode()


def no_data_text(params: Mapping[str, str]) -> str:
    """The platform's "No matching data found" sentence for a request."""
    return (
        f"No matching data found for Data item (doc {params.get('documentType', '?')}) and "
        f"interval {params.get('periodStart', '?')}/{params.get('periodEnd', '?')}."
    )
