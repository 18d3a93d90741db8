"""``/api/v1/energy-data``: a stored series as JSON pages, CSV or Parquet; latest; aggregates."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

import orjson
from entsoe_client import (
    PLATFORM_TABLE,
    DataType,
    InvalidQueryError,
    parse_contract_type,
    parse_psr_type,
)
from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from service_common import OrjsonResponse

from energy_data_service.api.deps import ApiKeyDep, SeriesReadsDep, SettingsDep
from energy_data_service.api.formats import (
    CSV_COLUMNS,
    SeriesBatches,
    csv_chunks,
    identity_of,
    parquet_chunks,
)
from energy_data_service.domain import resolve_area, resolve_data_type, utc
from energy_data_service.repositories.series_reads import Row, SeriesKey, SeriesReadRepository
from energy_data_service.series_domains import is_directional
from energy_data_service.settings import Settings

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
AreaListParam = Annotated[
    list[str],
    Query(
        description="Area short name (DE_LU, FR, NL, …) or EIC code; repeat it for several "
        "areas, answered as one table"
    ),
]
DataTypeListParam = Annotated[
    list[str],
    Query(
        description="actual_load, day_ahead_forecast, …, day_ahead_prices; repeat it for "
        "several data types, answered as one table"
    ),
]
PsrTypeListParam = Annotated[
    list[str] | None,
    Query(
        description="Production type (B16 or solar, …) of generation data; repeat it for several "
        "(one table). Default: the first, or every type in a table"
    ),
]
OutAreaListParam = Annotated[
    list[str] | None,
    Query(
        description="Directional data (flows, exchanges, capacities): the area the energy comes "
        "from (area_code is where it goes); repeat it for several borders (one table)"
    ),
]
ContractTypeParam = Annotated[
    str | None,
    Query(
        description="Horizon of scheduled exchanges and transfer capacities: A01 (day_ahead), "
        "A02 (week_ahead), A03 (month_ahead), A04 (year_ahead), A05 (total). Default: any"
    ),
]
DirectionParam = Annotated[
    str | None,
    Query(description="Balancing direction: A01 (up), A02 (down), A03 (symmetric). Default: any"),
]
PriceCategoryParam = Annotated[
    str | None,
    Query(
        description="Imbalance price category: A04 (long, excess balance) or A05 (short, "
        "insufficient balance). Default: any"
    ),
]
LayoutParam = Annotated[
    Literal["series", "table"] | None,
    Query(
        description="series: one series and its points (the default for one area and data "
        "type); table: rows of every matching series, each carrying its identity (the default "
        "when a parameter is repeated)"
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
    contract_type: str = ""
    flow_direction: str = ""
    price_category: str = ""
    registered_resource: str = ""


class TableSeries(SeriesInfo):
    area_code: str
    data_type: str


class TableRow(BaseModel):
    """One point with its series' identity (the columns of ``api.formats.CSV_COLUMNS``)."""

    timestamp: datetime
    value: float
    price: float | None
    area_code: str
    data_type: str
    business_type: str
    resolution: str
    classification_sequence: int
    unit: str
    out_area_code: str
    psr_type: str
    contract_type: str
    flow_direction: str
    price_category: str
    registered_resource: str


class SeriesTable(BaseModel):
    """Several series as one table: ``rows`` ordered by series, then time; ``next_cursor`` is
    set when more rows follow."""

    start_time: datetime
    end_time: datetime
    as_of: datetime | None
    series: list[TableSeries]
    count: int
    next_cursor: str | None
    rows: list[TableRow]


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


def _download(
    batches: SeriesBatches, name: str, format: Literal["csv", "parquet"]
) -> StreamingResponse:
    """A file answer, streamed: `name`.csv or `name`.parquet."""
    if format == "csv":
        chunks, media_type = csv_chunks(batches), "text/csv"
    else:
        chunks, media_type = parquet_chunks(batches), "application/vnd.apache.parquet"
    return StreamingResponse(
        chunks,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}.{format}"'},
    )


def _page_size(limit: int | None, settings: Settings, unit: str) -> int:
    """The page asked for (or the default), or 400 above the cap."""
    page_size = limit or settings.api.default_limit
    if page_size > settings.api.max_limit:
        raise _bad_request(
            f"limit {page_size} is above the cap of {settings.api.max_limit} {unit} per page: "
            "use a smaller limit and follow next_cursor, or narrow the time range"
        )
    return page_size


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
        contract_type=series.contract_type,
        flow_direction=series.flow_direction,
        price_category=series.price_category,
        registered_resource=series.registered_resource,
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


_DIRECTIONS = {"up": "A01", "down": "A02", "symmetric": "A03"}
_CATEGORIES = {"long": "A04", "excess": "A04", "short": "A05", "insufficient": "A05"}


def _code(value: str, names: dict[str, str], what: str) -> str:
    """A code typed as the code (``A01``) or a name (``up``), or a 400 listing them."""
    text = value.strip()
    code = names.get(text.lower(), text.upper())
    if code not in names.values():
        choices = ", ".join(f"{c} ({n})" for n, c in names.items())
        raise _bad_request(f"unknown {what} {value!r}: choose one of {choices}")
    return code


def _identity_filters(
    kind: str,
    psr_type: str | None = None,
    out_area: str | None = None,
    contract_type: str | None = None,
    direction: str | None = None,
    price_category: str | None = None,
    *,
    need_out_area: bool = True,
) -> dict[str, str]:
    """The series-identity columns the query narrows to, or a 400 that says what to fix."""
    if need_out_area and is_directional(kind) and out_area is None:
        raise _bad_request(
            f"{kind} is directional: give out_area, the area the energy comes from "
            "(area_code is where it goes), e.g. area_code=FR&out_area=DE_LU"
        )
    identity: dict[str, str] = {}
    try:
        if out_area is not None:
            identity["out_area_code"] = resolve_area(out_area).eic
        if psr_type is not None:
            identity["psr_type"] = parse_psr_type(psr_type)
        if contract_type is not None:
            rule = PLATFORM_TABLE[DataType(kind)]
            identity["contract_type"] = parse_contract_type(rule, contract_type, kind)
    except (ValueError, InvalidQueryError) as error:
        raise _bad_request(str(error)) from None
    if direction is not None:
        identity["flow_direction"] = _code(direction, _DIRECTIONS, "direction")
    if price_category is not None:
        identity["price_category"] = _code(price_category, _CATEGORIES, "price_category")
    return identity


def _matching(candidates: list[SeriesKey], identity: dict[str, str]) -> list[SeriesKey]:
    return [c for c in candidates if all(getattr(c, k) == v for k, v in identity.items())]


async def _select_series(
    reads: SeriesReadRepository,
    eic: str,
    kind: str,
    start: datetime,
    end: datetime,
    resolution: str | None,
    sequence: int | None,
    as_of: datetime | None = None,
    identity: dict[str, str] | None = None,
) -> tuple[SeriesKey | None, list[SeriesKey]]:
    candidates = _matching(
        await reads.series_in_range(eic, kind, start, end, as_of), identity or {}
    )
    chosen = _choose(candidates, resolution, sequence)
    return chosen, [c for c in candidates if c != chosen]


def _one(values: list[str] | None, name: str) -> str | None:
    if not values:
        return None
    if any(not v.strip() for v in values):
        raise _bad_request(f"{name} must not be empty")
    return values[0]


async def _table_series(
    reads: SeriesReadRepository,
    areas: list[str],
    kinds: list[str],
    start: datetime,
    end: datetime,
    as_of: datetime | None,
    psr_types: list[str | None],
    out_areas: list[str | None],
    qualifiers: tuple[str | None, str | None, str | None],
    resolution: str | None,
    sequence: int | None,
) -> list[SeriesKey]:
    """Every stored series of every area × data type matching the filters (each repeated
    value widens the choice), ordered by identity."""
    found: dict[int, SeriesKey] = {}
    for area in areas:
        for data_type in kinds:
            eic, _, kind, _ = _resolve(area, data_type)
            stored = await reads.series_in_range(eic, kind, start, end, as_of)
            for psr_type in psr_types:
                for out_area in out_areas:
                    identity = _identity_filters(
                        kind,
                        psr_type if psr_type is not None and _takes_psr(kind) else None,
                        out_area if is_directional(kind) else None,
                        *qualifiers,
                        need_out_area=False,
                    )
                    for series in _matching(stored, identity):
                        if resolution is not None and series.resolution != resolution.upper():
                            continue
                        if sequence is not None and series.classification_sequence != sequence:
                            continue
                        found[series.series_id] = series
    return sorted(found.values(), key=identity_of)


def _takes_psr(kind: str) -> bool:
    try:
        return PLATFORM_TABLE[DataType(kind)].psr_type_allowed
    except ValueError:
        return False


def _encode_table_cursor(series: SeriesKey, after: datetime) -> str:
    payload = ["table", series.series_id, after]
    return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


def _decode_table_cursor(cursor: str) -> tuple[int, datetime]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        marker, series_id, after = orjson.loads(raw)
        if marker != "table":
            raise ValueError(marker)
        return int(series_id), utc(datetime.fromisoformat(after))
    except (binascii.Error, ValueError, TypeError, orjson.JSONDecodeError):
        raise _bad_request(
            "invalid cursor: pass the next_cursor of the previous page unchanged"
        ) from None


async def _stream_all(
    reads: SeriesReadRepository,
    chosen: list[SeriesKey],
    start: datetime,
    end: datetime,
    as_of: datetime | None,
) -> SeriesBatches:
    for series in chosen:
        async for batch in reads.stream(series, start, end, as_of=as_of):
            yield series, batch


async def _one_series(
    reads: SeriesReadRepository,
    series: SeriesKey,
    start: datetime,
    end: datetime,
    as_of: datetime | None,
) -> SeriesBatches:
    async for batch in reads.stream(series, start, end, as_of=as_of):
        yield series, batch


def _table_row(series: SeriesKey, row: Row) -> dict[str, object]:
    return dict(zip(CSV_COLUMNS, (*row, *identity_of(series)), strict=True))


def _table_info(series: SeriesKey) -> dict[str, object]:
    return {
        "area_code": series.area_code,
        "data_type": series.data_type,
        **_info(series).model_dump(),
    }


@router.get(
    "",
    response_model=SeriesPage | SeriesTable,
    responses={200: {"content": {"text/csv": {}, "application/vnd.apache.parquet": {}}}},
    summary="Points of one series, or of several as one table (JSON pages, CSV or Parquet)",
)
async def get_energy_data(
    reads: SeriesReadsDep,
    settings: SettingsDep,
    area_code: AreaListParam,
    data_type: DataTypeListParam,
    start_time: StartParam = None,
    end_time: EndParam = None,
    format: Literal["json", "csv", "parquet"] = "json",
    limit: Annotated[int | None, Query(ge=1, description="Points per JSON page")] = None,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    resolution: ResolutionParam = None,
    classification_sequence: SequenceParam = None,
    as_of: AsOfParam = None,
    psr_type: PsrTypeListParam = None,
    out_area: OutAreaListParam = None,
    contract_type: ContractTypeParam = None,
    direction: DirectionParam = None,
    price_category: PriceCategoryParam = None,
    layout: LayoutParam = None,
) -> object:
    """JSON answers one page (``limit``, default ``API__DEFAULT_LIMIT``) and a ``next_cursor``
    while more points follow; a ``limit`` above ``API__MAX_LIMIT`` is refused with 400. CSV and
    Parquet stream the whole range. A point belongs to the range when its interval overlaps
    it; ``as_of`` reads the values as they were known at that instant.

    Repeating ``area_code``, ``data_type``, ``psr_type`` or ``out_area`` (or ``layout=table``)
    answers every matching series as one table: each row carries its series' identity (area,
    data type, border, production type, horizon, direction, price category …), in JSON pages
    (``rows``), CSV or Parquet. In a table, a left-out ``psr_type`` or ``out_area`` means every
    production type or border stored."""
    repeated = any(len(v or ()) > 1 for v in (area_code, data_type, psr_type, out_area))
    if layout == "table" or (layout is None and repeated):
        return await _get_table(
            reads,
            settings,
            area_code,
            data_type,
            start_time,
            end_time,
            format,
            limit,
            cursor,
            resolution,
            classification_sequence,
            as_of,
            psr_type,
            out_area,
            (contract_type, direction, price_category),
        )
    if repeated:
        raise _bad_request("a repeated parameter answers a table: drop layout=series")
    eic, short_name, kind, _ = _resolve(_one(area_code, "area_code") or "", data_type[0])
    start, end = _window(start_time, end_time, timedelta(days=1))
    known_at = parse_as_of(as_of)
    identity = _identity_filters(
        kind,
        _one(psr_type, "psr_type"),
        _one(out_area, "out_area"),
        contract_type,
        direction,
        price_category,
    )
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
        identity,
    )
    if cursor is not None and chosen is not None and chosen.business_type != business:
        chosen = None
    if format != "json":
        if chosen is None:
            raise HTTPException(
                status_code=status.HTTP_404_NOT_FOUND,
                detail=f"no {kind} stored for {short_name} between {start} and {end}",
            )
        batches = _one_series(reads, chosen, start, end, known_at)
        name = f"{short_name}_{kind}_{start:%Y%m%dT%H%M}_{end:%Y%m%dT%H%M}"
        return _download(batches, name, format)
    page_size = _page_size(limit, settings, "points")
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


async def _get_table(
    reads: SeriesReadRepository,
    settings: Settings,
    areas: list[str],
    kinds: list[str],
    start_time: datetime | None,
    end_time: datetime | None,
    format: Literal["json", "csv", "parquet"],
    limit: int | None,
    cursor: str | None,
    resolution: str | None,
    sequence: int | None,
    as_of: str | None,
    psr_types: list[str] | None,
    out_areas: list[str] | None,
    qualifiers: tuple[str | None, str | None, str | None],
) -> object:
    """Rows of every matching series, one table (see ``get_energy_data``)."""
    for name, given in (
        ("area_code", areas),
        ("data_type", kinds),
        ("psr_type", psr_types),
        ("out_area", out_areas),
    ):
        _one(given, name)
    start, end = _window(start_time, end_time, timedelta(days=1))
    known_at = parse_as_of(as_of)
    psr_choice: list[str | None] = list(psr_types) if psr_types else [None]
    out_choice: list[str | None] = list(out_areas) if out_areas else [None]
    chosen = await _table_series(
        reads,
        areas,
        kinds,
        start,
        end,
        known_at,
        psr_choice,
        out_choice,
        qualifiers,
        resolution,
        sequence,
    )
    if format != "json":
        if not chosen:
            raise HTTPException(
                status_code=status.HTTP_404_NOT_FOUND,
                detail=f"no series of {', '.join(kinds)} stored for {', '.join(areas)} "
                f"between {start} and {end}",
            )
        batches = _stream_all(reads, chosen, start, end, known_at)
        name = f"energy_data_{start:%Y%m%dT%H%M}_{end:%Y%m%dT%H%M}"
        return _download(batches, name, format)
    page_size = _page_size(limit, settings, "rows")
    remaining = list(chosen)
    after: datetime | None = None
    if cursor is not None:
        series_id, after = _decode_table_cursor(cursor)
        ids = [s.series_id for s in chosen]
        if series_id not in ids:
            raise _bad_request(
                "invalid cursor: it belongs to another query; pass the same parameters with it"
            )
        remaining = chosen[ids.index(series_id) :]
    rows: list[tuple[SeriesKey, Row]] = []
    for series in remaining:
        wanted = page_size + 1 - len(rows)
        if wanted <= 0:
            break
        page = await reads.page(series, start, end, after=after, limit=wanted, as_of=known_at)
        rows.extend((series, row) for row in page)
        after = None
    next_cursor = None
    if len(rows) > page_size:
        rows = rows[:page_size]
        last_series, last_row = rows[-1]
        next_cursor = _encode_table_cursor(last_series, last_row[0])
    return OrjsonResponse(
        {
            "start_time": start,
            "end_time": end,
            "as_of": known_at,
            "series": [_table_info(s) for s in chosen],
            "count": len(rows),
            "next_cursor": next_cursor,
            "rows": [_table_row(series, row) for series, row in rows],
        }
    )


@router.get("/latest", response_model=LatestPoint, summary="The most recent stored point")
async def get_latest(
    reads: SeriesReadsDep,
    area_code: AreaParam,
    data_type: DataTypeParam,
    as_of: AsOfParam = None,
    psr_type: PsrTypeParam = None,
    out_area: OutAreaParam = None,
    contract_type: ContractTypeParam = None,
    direction: DirectionParam = None,
    price_category: PriceCategoryParam = None,
) -> OrjsonResponse:
    """The newest point of the area × data type (of the series the identity parameters narrow
    to, as for the main read); ``as_of``: the newest known at that instant."""
    eic, short_name, kind, _ = _resolve(area_code, data_type)
    known_at = parse_as_of(as_of)
    identity = _identity_filters(kind, psr_type, out_area, contract_type, direction, price_category)
    found = await reads.latest(eic, kind, known_at, **identity)
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
    psr_type: PsrTypeParam = None,
    out_area: OutAreaParam = None,
    contract_type: ContractTypeParam = None,
    direction: DirectionParam = None,
    price_category: PriceCategoryParam = None,
) -> OrjsonResponse:
    """Buckets follow the area's local calendar (``Europe/Berlin`` for DE_LU); computed in SQL.
    ``as_of`` aggregates the values as they were known at that instant; the identity
    parameters pick the series as for the main read."""
    eic, short_name, kind, zone = _resolve(area_code, data_type)
    identity = _identity_filters(kind, psr_type, out_area, contract_type, direction, price_category)
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
        reads, eic, kind, start, end, resolution, classification_sequence, known_at, identity
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
    psr_type: PsrTypeParam = None,
    out_area: OutAreaParam = None,
    contract_type: ContractTypeParam = None,
    direction: DirectionParam = None,
    price_category: PriceCategoryParam = None,
) -> OrjsonResponse:
    """Oldest first; each replaced value with ``known_from``/``known_until``, the current one
    with ``known_until`` null, each with the document (mRID, revision, created, fetched) that
    brought it. The identity parameters pick the series as for the main read."""
    eic, short_name, kind, _ = _resolve(area_code, data_type)
    moment, _ = _window(timestamp, timestamp + timedelta(seconds=1), timedelta(0))
    identity = _identity_filters(kind, psr_type, out_area, contract_type, direction, price_category)
    chosen, others = await _select_series(
        reads,
        eic,
        kind,
        moment,
        moment + timedelta(seconds=1),
        resolution,
        classification_sequence,
        None,
        identity,
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
