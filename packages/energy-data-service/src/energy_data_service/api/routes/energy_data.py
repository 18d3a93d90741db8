"""``/api/v1/energy-data``: a stored series as JSON pages, CSV or Parquet; latest; aggregates."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

import orjson
from entsoe_client import InvalidQueryError, parse_psr_type
from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from service_common import OrjsonResponse

from energy_data_service.api.deps import ApiKeyDep, SeriesReadsDep, SettingsDep
from energy_data_service.api.formats import csv_chunks, parquet_chunks
from energy_data_service.domain import resolve_area, resolve_data_type, utc
from energy_data_service.repositories.series_reads import SeriesKey, SeriesReadRepository
from energy_data_service.series_domains import is_directional

router = APIRouter(prefix="/api/v1/energy-data", tags=["energy data"], dependencies=[ApiKeyDep])

AreaParam = Annotated[
    str, Query(description="Area short name (DE_LU, FR, NL, …) or EIC code", min_length=1)
]
DataTypeParam = Annotated[
    str,
    Query(description="actual_load, day_ahead_forecast, …, day_ahead_prices", min_length=1),
]
StartParam = Annotated[
    datetime | None,
    Query(description="Interval start, ISO 8601; no offset means UTC. Default: end - 1 day"),
]
EndParam = Annotated[
    datetime | None, Query(description="Exclusive end, ISO 8601; no offset means UTC. Default: now")
]
ResolutionParam = Annotated[
    str | None, Query(description="Pick one series by resolution (PT15M, PT60M, …)")
]
SequenceParam = Annotated[
    int | None, Query(description="Pick one price sequence (DE_LU publishes 1 and 2)", ge=0, le=99)
]
PsrTypeParam = Annotated[
    str | None,
    Query(description="Production type (B16 or solar, …) of generation data; default: the first"),
]
OutAreaParam = Annotated[
    str | None,
    Query(
        description="Directional data (flows, exchanges, capacities): the area the energy "
        "comes from; area_code is where it goes"
    ),
]
AsOfParam = Annotated[
    str | None,
    Query(
        description="ISO 8601 instant with offset (2026-03-01T12:00Z): the values as they were "
        "known then (stored by then and not yet replaced). Default: the current values"
    ),
]

_EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
_LATEST = datetime(2200, 1, 1, tzinfo=UTC)
_RESOLUTION_ORDER = ["PT1M", "PT5M", "PT15M", "PT30M", "PT60M", "P1D", "P7D", "P1M", "P1Y"]


class SeriesPoint(BaseModel):
    """One stored value of a series (with its price when the series has one)."""

    timestamp: datetime
    value: float
    price: float | None = None


class VersionInfo(BaseModel):
    """One value a point has had; ``known_until`` is null for the current one."""

    timestamp: datetime
    value: float
    price: float | None
    known_from: datetime
    known_until: datetime | None
    document_mrid: str
    revision_number: int
    document_created_at: datetime | None
    fetched_at: datetime


class Versions(BaseModel):
    area_code: str
    area: str
    data_type: str
    timestamp: datetime
    series: SeriesInfo | None
    other_series: list[SeriesInfo]
    versions: list[VersionInfo]


class SeriesInfo(BaseModel):
    business_type: str
    resolution: str
    classification_sequence: int
    unit: str
    psr_type: str = ""
    out_area_code: str = ""


class SeriesPage(BaseModel):
    """One page of a series: ``next_cursor`` is set when more points follow."""

    area_code: str
    area: str
    data_type: str
    start_time: datetime
    end_time: datetime
    as_of: datetime | None
    series: SeriesInfo | None
    other_series: list[SeriesInfo]
    count: int
    next_cursor: str | None
    points: list[SeriesPoint]


class LatestPoint(BaseModel):
    area_code: str
    area: str
    data_type: str
    as_of: datetime | None
    series: SeriesInfo
    timestamp: datetime
    value: float


class Bucket(BaseModel):
    start: datetime
    end: datetime
    mean: float
    min: float
    max: float
    count: int


class Aggregated(BaseModel):
    area_code: str
    area: str
    data_type: str
    interval: str
    time_zone: str
    as_of: datetime | None
    series: SeriesInfo | None
    buckets: list[Bucket]


def _bad_request(message: str) -> HTTPException:
    return HTTPException(status_code=status.HTTP_400_BAD_REQUEST, detail=message)


def _resolve(area_code: str, data_type: str) -> tuple[str, str, str, ZoneInfo]:
    """(EIC, short name, data type, local zone) or 400 listing close matches / valid choices."""
    try:
        area = resolve_area(area_code)
        kind = resolve_data_type(data_type)
    except ValueError as error:
        raise _bad_request(str(error)) from None
    return area.eic, str(area.short_name), kind, ZoneInfo(area.tz_name)


def _window(
    start: datetime | None, end: datetime | None, default: timedelta
) -> tuple[datetime, datetime]:
    try:
        end_utc = utc(end) if end is not None else datetime.now(UTC)
        start_utc = utc(start) if start is not None else end_utc - default
    except OverflowError:
        raise _bad_request(
            "start_time/end_time out of range: use dates between 1900 and 2200"
        ) from None
    if not (_EARLIEST <= start_utc <= _LATEST and _EARLIEST <= end_utc <= _LATEST):
        raise _bad_request("start_time/end_time out of range: use dates between 1900 and 2200")
    if start_utc >= end_utc:
        raise _bad_request(
            f"start_time ({start_utc.isoformat()}) must be before end_time ({end_utc.isoformat()})"
        )
    return start_utc, end_utc


def parse_as_of(text: str | None, now: datetime | None = None) -> datetime | None:
    """``as_of`` as an aware UTC instant, or a 400 that says what is wrong with it."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise _bad_request(
            f"as_of {text!r} is not an ISO 8601 timestamp: use e.g. 2026-03-01T12:00:00+00:00"
        ) from None
    if moment.tzinfo is None:
        raise _bad_request(
            f"as_of {text!r} has no UTC offset: add one, e.g. {text.strip()}Z or +01:00"
        )
    moment = moment.astimezone(UTC)
    if moment > (now or datetime.now(UTC)):
        raise _bad_request(
            f"as_of {moment.isoformat()} lies in the future: nothing is known about it yet"
        )
    return moment


def _info(series: SeriesKey) -> SeriesInfo:
    return SeriesInfo(
        business_type=series.business_type,
        resolution=series.resolution,
        classification_sequence=series.classification_sequence,
        unit=series.unit,
        psr_type=series.psr_type,
        out_area_code=series.out_area_code,
    )


def _choose(
    candidates: list[SeriesKey], resolution: str | None, sequence: int | None
) -> SeriesKey | None:
    """The requested series, else the finest resolution and the first price sequence."""
    if resolution is not None:
        candidates = [c for c in candidates if c.resolution == resolution.upper()]
    if sequence is not None:
        candidates = [c for c in candidates if c.classification_sequence == sequence]

    def rank(series: SeriesKey) -> tuple[int, int, str]:
        order = (
            _RESOLUTION_ORDER.index(series.resolution)
            if series.resolution in _RESOLUTION_ORDER
            else len(_RESOLUTION_ORDER)
        )
        return order, series.classification_sequence, series.business_type

    return min(candidates, key=rank) if candidates else None


def _encode_cursor(series: SeriesKey, after: datetime) -> str:
    payload = [series.business_type, series.resolution, series.classification_sequence, after]
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[str, str, int, datetime]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        business, resolution, sequence, after = orjson.loads(raw)
        return str(business), str(resolution), int(sequence), utc(datetime.fromisoformat(after))
    except (binascii.Error, ValueError, TypeError, orjson.JSONDecodeError):
        raise _bad_request(
            "invalid cursor: pass the next_cursor of the previous page unchanged"
        ) from None


def _identity_filters(
    kind: str, psr_type: str | None, out_area: str | None
) -> tuple[str | None, str | None]:
    """(out area EIC, production type code) from the query, or a 400 that says what to fix."""
    if is_directional(kind) and out_area is None:
        raise _bad_request(
            f"{kind} is directional: give out_area, the area the energy comes from "
            "(area_code is where it goes), e.g. area_code=FR&out_area=DE_LU"
        )
    try:
        source = resolve_area(out_area).eic if out_area is not None else None
        production = parse_psr_type(psr_type) if psr_type is not None else None
    except (ValueError, InvalidQueryError) as error:
        raise _bad_request(str(error)) from None
    return source, production


async def _select_series(
    reads: SeriesReadRepository,
    eic: str,
    kind: str,
    start: datetime,
    end: datetime,
    resolution: str | None,
    sequence: int | None,
    as_of: datetime | None = None,
    psr_type: str | None = None,
    out_area: str | None = None,
) -> tuple[SeriesKey | None, list[SeriesKey]]:
    candidates = await reads.series_in_range(eic, kind, start, end, as_of)
    source, production = _identity_filters(kind, psr_type, out_area)
    if source is not None:
        candidates = [c for c in candidates if c.out_area_code == source]
    if production is not None:
        candidates = [c for c in candidates if c.psr_type == production]
    chosen = _choose(candidates, resolution, sequence)
    return chosen, [c for c in candidates if c != chosen]


@router.get(
    "",
    response_model=SeriesPage,
    responses={200: {"content": {"text/csv": {}, "application/vnd.apache.parquet": {}}}},
    summary="Points of one series in a time range (JSON pages, CSV or Parquet)",
)
async def get_energy_data(
    reads: SeriesReadsDep,
    settings: SettingsDep,
    area_code: AreaParam,
    data_type: DataTypeParam,
    start_time: StartParam = None,
    end_time: EndParam = None,
    format: Literal["json", "csv", "parquet"] = "json",
    limit: Annotated[int | None, Query(ge=1, description="Points per JSON page")] = None,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    resolution: ResolutionParam = None,
    classification_sequence: SequenceParam = None,
    as_of: AsOfParam = None,
    psr_type: PsrTypeParam = None,
    out_area: OutAreaParam = None,
) -> object:
    """JSON answers one page (``limit``, default ``API__DEFAULT_LIMIT``) and a ``next_cursor``
    while more points follow; a ``limit`` above ``API__MAX_LIMIT`` is refused with 400. CSV and
    Parquet stream the whole range. A point belongs to the range when its interval overlaps
    it; ``as_of`` reads the values as they were known at that instant."""
    eic, short_name, kind, _ = _resolve(area_code, data_type)
    start, end = _window(start_time, end_time, timedelta(days=1))
    known_at = parse_as_of(as_of)
    after: datetime | None = None
    if cursor is not None:
        business, cursor_resolution, sequence, after = _decode_cursor(cursor)
        resolution, classification_sequence = cursor_resolution, sequence
    chosen, others = await _select_series(
        reads,
        eic,
        kind,
        start,
        end,
        resolution,
        classification_sequence,
        known_at,
        psr_type=psr_type,
        out_area=out_area,
    )
    if cursor is not None and chosen is not None and chosen.business_type != business:
        chosen = None
    if format != "json":
        if chosen is None:
            raise HTTPException(
                status_code=status.HTTP_404_NOT_FOUND,
                detail=f"no {kind} stored for {short_name} between {start} and {end}",
            )
        batches = reads.stream(chosen, start, end, as_of=known_at)
        name = f"{short_name}_{kind}_{start:%Y%m%dT%H%M}_{end:%Y%m%dT%H%M}"
        if format == "csv":
            return StreamingResponse(
                csv_chunks(chosen, batches),
                media_type="text/csv",
                headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
            )
        return StreamingResponse(
            parquet_chunks(chosen, batches),
            media_type="application/vnd.apache.parquet",
            headers={"Content-Disposition": f'attachment; filename="{name}.parquet"'},
        )
    page_size = limit or settings.api.default_limit
    if page_size > settings.api.max_limit:
        raise _bad_request(
            f"limit {page_size} is above the cap of {settings.api.max_limit} points per page: "
            "use a smaller limit and follow next_cursor, or narrow the time range"
        )
    rows: list[tuple[datetime, float, float | None]] = []
    if chosen is not None:
        rows = await reads.page(
            chosen, start, end, after=after, limit=page_size + 1, as_of=known_at
        )
    next_cursor = None
    if len(rows) > page_size:
        rows = rows[:page_size]
        assert chosen is not None
        next_cursor = _encode_cursor(chosen, rows[-1][0])
    body = {
        "area_code": eic,
        "area": short_name,
        "data_type": kind,
        "start_time": start,
        "end_time": end,
        "as_of": known_at,
        "series": _info(chosen).model_dump() if chosen else None,
        "other_series": [_info(o).model_dump() for o in others],
        "count": len(rows),
        "next_cursor": next_cursor,
        "points": [{"timestamp": ts, "value": value, "price": price} for ts, value, price in rows],
    }
    return OrjsonResponse(body)


@router.get("/latest", response_model=LatestPoint, summary="The most recent stored point")
async def get_latest(
    reads: SeriesReadsDep,
    area_code: AreaParam,
    data_type: DataTypeParam,
    as_of: AsOfParam = None,
) -> OrjsonResponse:
    """The newest point of the area × data type; ``as_of``: the newest known at that instant."""
    eic, short_name, kind, _ = _resolve(area_code, data_type)
    known_at = parse_as_of(as_of)
    found = await reads.latest(eic, kind, known_at)
    if found is None:
        when = f" as of {known_at.isoformat()}" if known_at else " yet"
        raise HTTPException(
            status_code=status.HTTP_404_NOT_FOUND,
            detail=f"no {kind} stored for {short_name}{when}",
        )
    series, timestamp, value = found
    return OrjsonResponse(
        {
            "area_code": eic,
            "area": short_name,
            "data_type": kind,
            "as_of": known_at,
            "series": _info(series).model_dump(),
            "timestamp": timestamp,
            "value": value,
        }
    )


Interval = Literal["hour", "day", "week", "month"]


def local_buckets(
    start: datetime, end: datetime, interval: Interval, zone: ZoneInfo
) -> list[tuple[datetime, datetime]]:
    """Calendar buckets covering ``[start, end)``, clipped to it, as UTC instants.

    Days, weeks (Monday) and months begin at local midnight, so a DST day spans 23 or 25 hours.
    Hours are UTC hours (every area here has a whole-hour offset, and the repeated local hour of
    the autumn switch stays two buckets).
    """
    if interval == "hour":
        cursor = start.replace(minute=0, second=0, microsecond=0)

        def advance(moment: datetime) -> datetime:
            return moment + timedelta(hours=1)

    else:
        local = start.astimezone(zone)
        day = local.date()
        if interval == "week":
            day -= timedelta(days=day.weekday())
        elif interval == "month":
            day = day.replace(day=1)
        cursor = datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)

        def advance(moment: datetime) -> datetime:
            current = moment.astimezone(zone).date()
            if interval == "day":
                nxt = current + timedelta(days=1)
            elif interval == "week":
                nxt = current + timedelta(days=7)
            else:
                nxt = (current.replace(day=28) + timedelta(days=4)).replace(day=1)
            return datetime(nxt.year, nxt.month, nxt.day, tzinfo=zone).astimezone(UTC)

    buckets = []
    while cursor < end:
        following = advance(cursor)
        buckets.append((max(cursor, start), min(following, end)))
        cursor = following
    return buckets


@router.get(
    "/aggregated",
    response_model=Aggregated,
    summary="Mean, min and max per hour, local day, week or month",
)
async def get_aggregated(
    reads: SeriesReadsDep,
    settings: SettingsDep,
    area_code: AreaParam,
    data_type: DataTypeParam,
    interval: Interval = "day",
    start_time: StartParam = None,
    end_time: EndParam = None,
    resolution: ResolutionParam = None,
    classification_sequence: SequenceParam = None,
    as_of: AsOfParam = None,
) -> OrjsonResponse:
    """Buckets follow the area's local calendar (``Europe/Berlin`` for DE_LU); computed in SQL.
    ``as_of`` aggregates the values as they were known at that instant."""
    eic, short_name, kind, zone = _resolve(area_code, data_type)
    start, end = _window(start_time, end_time, timedelta(days=7))
    known_at = parse_as_of(as_of)
    if (end - start) > timedelta(days=366 * 10):
        raise _bad_request("the range is longer than 10 years: narrow start_time/end_time")
    buckets = local_buckets(start, end, interval, zone)
    if len(buckets) > settings.api.max_buckets:
        raise _bad_request(
            f"{len(buckets)} {interval} buckets exceed the cap of {settings.api.max_buckets}: "
            "use a coarser interval or a shorter range"
        )
    chosen, _ = await _select_series(
        reads, eic, kind, start, end, resolution, classification_sequence, known_at
    )
    rows = await reads.aggregate(chosen, buckets, known_at) if chosen is not None else []
    return OrjsonResponse(
        {
            "area_code": eic,
            "area": short_name,
            "data_type": kind,
            "interval": interval,
            "time_zone": zone.key,
            "as_of": known_at,
            "series": _info(chosen).model_dump() if chosen else None,
            "buckets": [
                {
                    "start": row.start,
                    "end": row.end,
                    "mean": row.mean,
                    "min": row.min,
                    "max": row.max,
                    "count": row.count,
                }
                for row in rows
            ],
        }
    )


@router.get(
    "/versions",
    response_model=Versions,
    summary="Every value one point has had, with when each was the stored one",
)
async def get_versions(
    reads: SeriesReadsDep,
    area_code: AreaParam,
    data_type: DataTypeParam,
    timestamp: Annotated[
        datetime,
        Query(description="An instant inside the point's interval, ISO 8601; no offset means UTC"),
    ],
    resolution: ResolutionParam = None,
    classification_sequence: SequenceParam = None,
) -> OrjsonResponse:
    """Oldest first; each replaced value with ``known_from``/``known_until``, the current one
    with ``known_until`` null, each with the document (mRID, revision, created, fetched) that
    brought it."""
    eic, short_name, kind, _ = _resolve(area_code, data_type)
    moment, _ = _window(timestamp, timestamp + timedelta(seconds=1), timedelta(0))
    chosen, others = await _select_series(
        reads, eic, kind, moment, moment + timedelta(seconds=1), resolution, classification_sequence
    )
    found = await reads.versions(chosen, moment) if chosen is not None else []
    return OrjsonResponse(
        {
            "area_code": eic,
            "area": short_name,
            "data_type": kind,
            "timestamp": moment,
            "series": _info(chosen).model_dump() if chosen else None,
            "other_series": [_info(o).model_dump() for o in others],
            "versions": [
                {
                    "timestamp": v.timestamp,
                    "value": v.value,
                    "price": v.price,
                    "known_from": v.known_from,
                    "known_until": v.known_until,
                    "document_mrid": v.document_mrid,
                    "revision_number": v.revision_number,
                    "document_created_at": v.document_created_at,
                    "fetched_at": v.fetched_at,
                }
                for v in found
            ],
        }
    )
