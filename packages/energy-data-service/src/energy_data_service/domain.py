"""The service's own vocabulary: stored points, data types, areas and time steps.

An ``EnergyPoint`` is a ``NamedTuple`` in the column order of the ``energy_points`` table, so
bulk ingest hands it to the driver (COPY, executemany) without building another object.
"""

from __future__ import annotations

import difflib
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple
from zoneinfo import ZoneInfo

from entsoe_client import PLATFORM_TABLE, ParseError
from entsoe_client import step_end as client_step_end

from energy_data_service.errors import UnknownChoiceError

if TYPE_CHECKING:
    from entsoe_client import Area


class EnergyPoint(NamedTuple):
    """One stored value with the provenance needed to decide which revision wins."""

    area_code: str
    data_type: str
    business_type: str
    resolution: str
    classification_sequence: int
    timestamp: datetime
    value: float
    unit: str
    curve_type: str
    document_mrid: str
    revision_number: int
    document_created_at: datetime | None
    fetched_at: datetime
    price: float | None = None
    """The price beside a quantity (A25 explicit allocations); ``None`` when the point has one
    value only (a price-only document keeps its price in ``value``)."""
    end: datetime | None = None
    """Interval end when it is not ``timestamp`` + the fixed step of ``resolution`` (days,
    weeks, months and years on the local calendar); ``None`` for fixed steps."""
    out_area_code: str = ""
    """The other area of directional data (where the energy comes from); '' otherwise."""
    psr_type: str = ""
    """Production type (B01 … B25) of generation series; '' otherwise."""
    registered_resource: str = ""
    """The unit or resource of per-unit series; '' otherwise."""
    contract_type: str = ""
    """Horizon of exchanges and capacities (``contract_MarketAgreement.type``); '' otherwise."""
    flow_direction: str = ""
    """Up (A01) or down (A02) of balancing series; '' otherwise."""
    price_category: str = ""
    """Long (A04) or short (A05) of imbalance prices; '' otherwise."""

    @property
    def series_key(self) -> tuple[str, str, str, str, int]:
        """Identity of the series this point belongs to (primary key minus the timestamp)."""
        return (
            self.area_code,
            self.data_type,
            self.business_type,
            self.resolution,
            self.classification_sequence,
        )


POINT_COLUMNS: tuple[str, ...] = EnergyPoint._fields


@contextmanager
def older_objects_frozen() -> Iterator[None]:
    """Keep the collector's full passes off the objects that existed before a long ingest.

    A backfill keeps tens of thousands of points alive across awaits, so the collector runs
    full passes over the whole heap (every imported module, the ORM, the settings …) again
    and again, finding nothing. ``gc.freeze`` moves what exists now out of those passes;
    ``gc.unfreeze`` hands it back at the end, so cyclic garbage among those objects is
    collected late, never leaked. Objects made during the ingest are collected as usual.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


KEY_COLUMNS: tuple[str, ...] = (
    "area_code",
    "data_type",
    "business_type",
    "resolution",
    "classification_sequence",
    "timestamp",
)

_LOAD_AND_PRICES = frozenset(
    {
        "actual_load",
        "day_ahead_forecast",
        "week_ahead_forecast",
        "month_ahead_forecast",
        "year_ahead_forecast",
        "forecast_margin",
        "day_ahead_prices",
    }
)

# (documentType, processType) → data type. Day-ahead prices carry no processType; the rest of
# the catalogue is added from the client's PLATFORM_TABLE below.
DATA_TYPE_BY_DOCUMENT: dict[tuple[str, str | None], str] = {
    ("A65", "A16"): "actual_load",
    ("A65", "A01"): "day_ahead_forecast",
    ("A65", "A31"): "week_ahead_forecast",
    ("A65", "A32"): "month_ahead_forecast",
    ("A65", "A33"): "year_ahead_forecast",
    ("A70", "A33"): "forecast_margin",
    ("A44", None): "day_ahead_prices",
    ("A44", "A01"): "day_ahead_prices",
}
DATA_TYPES: tuple[str, ...] = (
    "actual_load",
    "day_ahead_forecast",
    "week_ahead_forecast",
    "month_ahead_forecast",
    "year_ahead_forecast",
    "forecast_margin",
    "day_ahead_prices",
    *(d.value for d in PLATFORM_TABLE if d.value not in _LOAD_AND_PRICES),
)
"""Every data type of the client's catalogue: load and prices first, then the rest."""

for _data_type, _rule in PLATFORM_TABLE.items():
    DATA_TYPE_BY_DOCUMENT.setdefault((_rule.document_type, _rule.process_type), _data_type.value)

DATA_TYPE_BY_DOCUMENT_TYPE: dict[str, str] = {
    _document_type: _names.pop()
    for _document_type, _names in (
        (doc, {t for (d, _), t in DATA_TYPE_BY_DOCUMENT.items() if d == doc})
        for doc in {d for d, _ in DATA_TYPE_BY_DOCUMENT}
    )
    if len(_names) == 1
}
"""Document types that hold one data type whatever their processType (transmission, market
and balancing documents, whose processType varies or is absent)."""

FORECAST_TYPES = frozenset(
    {
        "day_ahead_forecast",
        "week_ahead_forecast",
        "month_ahead_forecast",
        "year_ahead_forecast",
        "forecast_margin",
    }
)
FORECAST_HORIZON: dict[str, timedelta] = {
    "day_ahead_forecast": timedelta(days=2),
    "week_ahead_forecast": timedelta(days=8),
    "month_ahead_forecast": timedelta(days=35),
    "year_ahead_forecast": timedelta(days=366),
    "forecast_margin": timedelta(days=366),
}
"""How far ahead each forecast is published; the gap filler re-fetches it up to there."""
FORECAST_REFRESH: dict[str, timedelta] = {
    "day_ahead_forecast": timedelta(0),
    "week_ahead_forecast": timedelta(hours=6),
    "month_ahead_forecast": timedelta(hours=12),
    "year_ahead_forecast": timedelta(days=1),
    "forecast_margin": timedelta(days=1),
}
"""How long after a successful run a forecast's horizon is asked for again (revisions).

The day-ahead forecast is revised up to the day itself, so it is asked for on every run; the
coarse ones change at most a few times a week, and asking for them again on every run would
spend the platform's request budget on answers already stored."""


def _choice_error(kind: str, name: str, choices: list[str]) -> UnknownChoiceError:
    close = difflib.get_close_matches(name.upper(), [c.upper() for c in choices], n=3, cutoff=0.5)
    by_upper = {c.upper(): c for c in choices}
    if close:
        hint = "did you mean " + ", ".join(by_upper[c] for c in close) + "?"
    else:
        hint = "valid choices: " + ", ".join(choices)
    return UnknownChoiceError(f"unknown {kind} {name!r}: {hint}")


def resolve_data_type(name: str) -> str:
    """Normalise ``Actual-Load`` → ``actual_load``; unknown names raise with close matches."""
    normalised = name.strip().lower().replace("-", "_")
    if normalised in DATA_TYPES:
        return normalised
    raise _choice_error("data type", name, list(DATA_TYPES))


def resolve_area(name: str) -> Area:
    """An area by short name or EIC; unknown names raise ``UnknownChoiceError`` with matches."""
    from entsoe_client import Area, UnknownAreaError

    try:
        return Area.lookup(name.strip())
    except UnknownAreaError as error:
        if error.suggestions:
            raise UnknownChoiceError(
                f"unknown area {name!r}: did you mean {', '.join(error.suggestions)}?"
            ) from None
        raise _choice_error("area", name, [a.name for a in Area]) from None


def resolve_border(pair: str) -> tuple[Area, Area]:
    """``DE_LU>FR`` → (from, to) areas: energy flows out of the first into the second."""
    if pair.count(">") != 1:
        raise UnknownChoiceError(
            f"border {pair!r} is not FROM>TO (e.g. DE_LU>FR: energy from DE_LU into FR)"
        )
    source, target = pair.split(">")
    return resolve_area(source), resolve_area(target)


def area_time_zone(area_code: str) -> ZoneInfo:
    """Local zone of an area (by EIC or name); UTC when the area is unknown to the client."""
    from entsoe_client import Area

    try:
        return ZoneInfo(Area.lookup(area_code).tz_name)
    except LookupError:
        return ZoneInfo("UTC")


def area_label(area_code: str) -> str:
    """Short name for display (``DE_LU``), falling back to the stored EIC."""
    from entsoe_client import Area

    try:
        return str(Area.lookup(area_code).short_name)
    except LookupError:
        return area_code


FIXED_STEPS = {
    "PT1M": timedelta(minutes=1),
    "PT5M": timedelta(minutes=5),
    "PT15M": timedelta(minutes=15),
    "PT30M": timedelta(minutes=30),
    "PT60M": timedelta(hours=1),
    "PT1H": timedelta(hours=1),
}


def normalise_resolution(resolution: str) -> str:
    """One spelling per duration, so ``PT1H`` and ``PT60M`` series are the same series."""
    return "PT60M" if resolution == "PT1H" else resolution


def step_end(start: datetime, resolution: str, zone: ZoneInfo) -> datetime:
    """End of the interval starting at ``start`` (UTC), by the client's calendar rule.

    Sub-daily steps are fixed durations; days, weeks, months and years follow the area's local
    calendar, so a local day across a DST switch is 23 or 25 hours long. One implementation
    (``entsoe_client.step_end``) serves the parser and the service, so a stored point's end is
    the end the parser gave it.
    """
    fixed = FIXED_STEPS.get(resolution)
    if fixed is not None:
        return start + fixed
    try:
        return client_step_end(start, resolution, zone)
    except ParseError:
        raise ValueError(f"unsupported resolution {resolution!r}") from None


def utc(value: datetime) -> datetime:
    """Aware UTC; naive input is taken as UTC (the CLI's documented convention)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
