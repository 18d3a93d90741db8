"""What can be asked of the platform, and the checks that run before anything is sent.

``PLATFORM_TABLE`` is the one place that knows the platform's codes and limits for each data
type: document and process type, which parameters carry the area, which kinds of area the
platform accepts, and the longest range one request may cover.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from entsoe_client._areas import Area, AreaKind
from entsoe_client._exceptions import InvalidQueryError
from entsoe_client._psr_types import parse_psr_type
from entsoe_client._splitting import Span, split_range


class DataType(StrEnum):
    """The data sets this client fetches, named for what they hold."""

    # load
    actual_load = "actual_load"
    day_ahead_forecast = "day_ahead_forecast"
    week_ahead_forecast = "week_ahead_forecast"
    month_ahead_forecast = "month_ahead_forecast"
    year_ahead_forecast = "year_ahead_forecast"
    forecast_margin = "forecast_margin"
    # generation
    generation_per_type = "generation_per_type"
    generation_per_unit = "generation_per_unit"
    generation_forecast = "generation_forecast"
    wind_solar_forecast = "wind_solar_forecast"
    wind_solar_forecast_intraday = "wind_solar_forecast_intraday"
    wind_solar_forecast_current = "wind_solar_forecast_current"
    installed_capacity = "installed_capacity"
    installed_capacity_per_unit = "installed_capacity_per_unit"
    water_reservoirs = "water_reservoirs"
    # transmission (directional)
    physical_flows = "physical_flows"
    scheduled_exchanges = "scheduled_exchanges"
    net_transfer_capacity = "net_transfer_capacity"
    offered_capacity = "offered_capacity"
    # market
    day_ahead_prices = "day_ahead_prices"
    net_positions = "net_positions"
    # balancing
    imbalance_prices = "imbalance_prices"
    imbalance_volumes = "imbalance_volumes"
    contracted_reserves = "contracted_reserves"
    contracted_reserve_prices = "contracted_reserve_prices"
    activated_balancing_prices = "activated_balancing_prices"


_LOAD_AREAS = frozenset({AreaKind.BIDDING_ZONE, AreaKind.CONTROL_AREA, AreaKind.COUNTRY})
_ZONES = frozenset({AreaKind.BIDDING_ZONE})
_ANY_AREA = frozenset(AreaKind)
_BALANCING_AREAS = frozenset(
    {
        AreaKind.CONTROL_AREA,
        AreaKind.BIDDING_ZONE,
        AreaKind.COUNTRY,
        AreaKind.LOAD_FREQUENCY_CONTROL_AREA,
        AreaKind.IMBALANCE_PRICE_AREA,
        AreaKind.IMBALANCE_AREA,
        AreaKind.SCHEDULING_AREA,
    }
)
_ONE_DAY = Span(days=1)
_ONE_MONTH = Span(months=1)
_ONE_YEAR = Span(months=12)
_PAGE_OF_DAYS = Span(days=99)
"""Daily documents are paged 100 to an answer: 99 days leave a page never exactly full, so the
client needs no extra request to learn that nothing follows (measured: 4 instead of 7
requests for a year of day-ahead prices, ``bench/requests_per_year.py``)."""


@dataclass(frozen=True, slots=True)
class PlatformRule:
    """How the platform wants one data type asked for.

    ``area_params`` name the parameters that carry the area's EIC (prices put the zone in both
    ``in_Domain`` and ``out_Domain``); ``out_area_param`` is set for two-area data (flows).
    ``max_span`` is the longest range one request may cover; ``paged`` marks document types the
    platform pages with ``offset``. ``resolution`` is what the platform usually publishes (for
    planning and documentation; each Period states its own).
    """

    document_type: str
    process_type: str | None
    area_params: tuple[str, ...]
    area_kinds: frozenset[AreaKind]
    max_span: Span
    out_area_param: str | None = None
    psr_type_allowed: bool = False
    extra_params: tuple[tuple[str, str], ...] = ()
    paged: bool = False
    resolution: str = "PT15M"
    contract_types: tuple[str, ...] = ()
    """The horizons (``contract_MarketAgreement.Type``) a query may choose, the default first;
    empty where the type has one horizon only."""

    @property
    def default_contract_type(self) -> str | None:
        """The horizon asked for when a query names none (``None``: the type has no choice)."""
        return self.contract_types[0] if self.contract_types else None


def _gl(
    document_type: str, process_type: str, span: Span, resolution: str, *, psr: bool = True
) -> PlatformRule:
    """A generation document (GL_MarketDocument): the area goes in ``in_Domain``."""
    return PlatformRule(
        document_type,
        process_type,
        ("in_Domain",),
        _LOAD_AREAS,
        span,
        psr_type_allowed=psr,
        resolution=resolution,
    )


def _border(
    document_type: str,
    span: Span,
    *extra: tuple[str, str],
    paged: bool = False,
    contract_types: tuple[str, ...] = (),
) -> PlatformRule:
    """Two-area data: ``in_Domain`` is where the energy goes, ``out_Domain`` where it comes from."""
    return PlatformRule(
        document_type,
        None,
        ("in_Domain",),
        _ANY_AREA,
        span,
        out_area_param="out_Domain",
        extra_params=extra,
        paged=paged,
        resolution="PT60M",
        contract_types=contract_types,
    )


def _balancing(
    document_type: str,
    process_type: str | None,
    span: Span,
    *extra: tuple[str, str],
    paged: bool = False,
    resolution: str = "PT15M",
) -> PlatformRule:
    """Balancing data: the area is a control (or imbalance) area in ``controlArea_Domain``."""
    return PlatformRule(
        document_type,
        process_type,
        ("controlArea_Domain",),
        _BALANCING_AREAS,
        span,
        extra_params=extra,
        paged=paged,
        resolution=resolution,
    )


PLATFORM_TABLE: dict[DataType, PlatformRule] = {
    # Load and its forecasts: one month per request since the platform tightened it from a year.
    DataType.actual_load: PlatformRule(
        "A65", "A16", ("outBiddingZone_Domain",), _LOAD_AREAS, _ONE_MONTH
    ),
    DataType.day_ahead_forecast: PlatformRule(
        "A65", "A01", ("outBiddingZone_Domain",), _LOAD_AREAS, _ONE_MONTH
    ),
    DataType.week_ahead_forecast: PlatformRule(
        "A65", "A31", ("outBiddingZone_Domain",), _LOAD_AREAS, _ONE_MONTH, resolution="P1D"
    ),
    DataType.month_ahead_forecast: PlatformRule(
        "A65", "A32", ("outBiddingZone_Domain",), _LOAD_AREAS, _ONE_MONTH, resolution="P7D"
    ),
    # Year-ahead data come as weekly (P7D) or yearly (P1Y) points: a request must be able to
    # cover a whole year, or it can never hold a P1Y point.
    DataType.year_ahead_forecast: PlatformRule(
        "A65", "A33", ("outBiddingZone_Domain",), _LOAD_AREAS, _ONE_YEAR, resolution="P7D"
    ),
    DataType.forecast_margin: PlatformRule(
        "A70", "A33", ("outBiddingZone_Domain",), _LOAD_AREAS, _ONE_YEAR, resolution="P1Y"
    ),
    # Generation. Per type: every production type in one answer (``psrType`` narrows it), one
    # month per request since the platform tightened it with load. Per unit: one day (the
    # answers hold a series per unit). The rest: one year, as documented.
    DataType.generation_per_type: _gl("A75", "A16", _ONE_MONTH, "PT15M"),
    DataType.generation_per_unit: _gl("A73", "A16", _ONE_DAY, "PT60M"),
    DataType.generation_forecast: _gl("A71", "A01", _ONE_YEAR, "PT60M", psr=False),
    DataType.wind_solar_forecast: _gl("A69", "A01", _ONE_MONTH, "PT15M"),
    DataType.wind_solar_forecast_intraday: _gl("A69", "A40", _ONE_MONTH, "PT15M"),
    DataType.wind_solar_forecast_current: _gl("A69", "A18", _ONE_MONTH, "PT15M"),
    DataType.installed_capacity: _gl("A68", "A33", _ONE_YEAR, "P1Y"),
    DataType.installed_capacity_per_unit: _gl("A71", "A33", _ONE_YEAR, "P1Y"),
    DataType.water_reservoirs: _gl("A72", "A16", _ONE_YEAR, "P7D", psr=False),
    # Transmission: one year per request. Scheduled exchanges are published for the total (A05,
    # the default) and the day-ahead horizon (A01); transfer capacities for day-ahead (A01, the
    # default), week (A02), month (A03) and year (A04); a query chooses with ``contract_type``.
    # Offered capacity: the implicit day-ahead auction (one document a day, 100 to a page).
    DataType.physical_flows: _border("A11", _ONE_YEAR),
    DataType.scheduled_exchanges: _border(
        "A09",
        _ONE_YEAR,
        ("contract_MarketAgreement.Type", "A05"),
        contract_types=("A05", "A01"),
    ),
    DataType.net_transfer_capacity: _border(
        "A61",
        _ONE_YEAR,
        ("contract_MarketAgreement.Type", "A01"),
        contract_types=("A01", "A02", "A03", "A04"),
    ),
    DataType.offered_capacity: _border(
        "A31",
        _PAGE_OF_DAYS,
        ("auction.Type", "A01"),
        ("contract_MarketAgreement.Type", "A01"),
        paged=True,
    ),
    # Prices: one series per day and at most 100 series ("instances") per answer; the platform
    # pages them with offset (DE_LU publishes two sequences, so 100 days can be 200 series).
    DataType.day_ahead_prices: PlatformRule(
        "A44",
        None,
        ("in_Domain", "out_Domain"),
        _ZONES,
        _PAGE_OF_DAYS,
        extra_params=(("contract_MarketAgreement.type", "A01"),),
        paged=True,
        resolution="PT15M",
    ),
    # Net positions of the day-ahead market coupling (implicit allocation, business type B09).
    DataType.net_positions: PlatformRule(
        "A25",
        None,
        ("in_Domain", "out_Domain"),
        _ZONES,
        _ONE_YEAR,
        extra_params=(("businessType", "B09"), ("contract_MarketAgreement.Type", "A01")),
        resolution="PT15M",
    ),
    # Balancing. Imbalance prices and activated balancing energy prices answer ZIP archives;
    # imbalance volumes went to one month with load. Reserves: daily contracts (A01), one
    # document per day, so 100 days per request and offset paging.
    DataType.imbalance_prices: _balancing("A85", None, _ONE_YEAR),
    DataType.imbalance_volumes: _balancing("A86", None, _ONE_MONTH),
    DataType.contracted_reserves: _balancing(
        "A81",
        None,
        _PAGE_OF_DAYS,
        ("businessType", "B95"),
        ("type_MarketAgreement.Type", "A01"),
        paged=True,
        resolution="PT60M",
    ),
    DataType.contracted_reserve_prices: _balancing(
        "A89",
        None,
        _PAGE_OF_DAYS,
        ("type_MarketAgreement.Type", "A01"),
        paged=True,
        resolution="PT60M",
    ),
    DataType.activated_balancing_prices: _balancing("A84", "A16", _ONE_YEAR),
}
"""One rule per data type; ``tests/test_catalogue.py`` checks every row against the
platform's API guide."""


def format_period(moment: datetime, *, round_up: bool = False) -> str:
    """``yyyyMMddHHmm`` in UTC. An end with seconds rounds up so no point is cut off."""
    utc = moment.astimezone(UTC)
    floored = utc.replace(second=0, microsecond=0)
    if round_up and floored != utc:
        floored += timedelta(minutes=1)
    return floored.strftime("%Y%m%d%H%M")


def parse_data_type(value: DataType | str) -> DataType:
    """A ``DataType`` from its name, or an error listing the valid names."""
    try:
        return DataType(value)
    except ValueError:
        names = [d.value for d in DataType]
        close = difflib.get_close_matches(str(value).strip().lower(), names, n=3, cutoff=0.6)
        hint = f"Did you mean {', '.join(close)}? " if close else ""
        choices = ", ".join(names)
        raise InvalidQueryError(
            f"Unknown data type {value!r}. {hint}Choose one of: {choices}."
        ) from None


CONTRACT_TYPES: dict[str, str] = {
    "A01": "day_ahead",
    "A02": "week_ahead",
    "A03": "month_ahead",
    "A04": "year_ahead",
    "A05": "total",
    "A06": "long_term",
    "A07": "intraday",
}
"""``contract_MarketAgreement.Type`` codes and the names users may type instead."""


def parse_contract_type(rule: PlatformRule, value: str, data_type: str = "") -> str:
    """A contract type code (``A02`` or ``week_ahead``) the rule offers, or an error listing
    the ones it does."""
    text = value.strip()
    by_name = {name: code for code, name in CONTRACT_TYPES.items()}
    code = by_name.get(text.lower().replace("-", "_"), text.upper())
    if code in rule.contract_types:
        return code
    offered = ", ".join(f"{c} ({CONTRACT_TYPES[c]})" for c in rule.contract_types)
    if not offered:
        raise InvalidQueryError(f"{data_type or 'this data type'} does not take a contract_type.")
    raise InvalidQueryError(
        f"Unknown contract type {value!r} for {data_type or 'this data type'}; "
        f"choose one of: {offered}."
    )


@dataclass(frozen=True, slots=True)
class Query:
    """One question to the platform, checked when created.

    ``start`` and ``end`` must be timezone-aware: a naive time is ambiguous by up to two hours
    in Europe, and guessing wrong shifts every point. For physical flows, ``area`` is the area
    the energy flows into and ``out_area`` the one it comes from.
    """

    data_type: DataType
    area: Area
    start: datetime
    end: datetime
    psr_type: str | None = None
    out_area: Area | None = None
    contract_type: str | None = None
    """The horizon (``contract_MarketAgreement.Type``) of exchanges and transfer capacities;
    ``None`` asks for the type's default (total exchanges, day-ahead capacities)."""
    rule: PlatformRule = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        rule = PLATFORM_TABLE[parse_data_type(self.data_type)]
        object.__setattr__(self, "rule", rule)
        for name, moment in (("start", self.start), ("end", self.end)):
            if moment.tzinfo is None or moment.utcoffset() is None:
                raise InvalidQueryError(
                    f"{name} {moment.isoformat()} has no timezone; pass an aware datetime "
                    "(for example datetime(2024, 1, 1, tzinfo=UTC))."
                )
        if self.start >= self.end:
            raise InvalidQueryError(
                f"start {self.start.isoformat()} must be before end {self.end.isoformat()}."
            )
        if not self.area.kinds & rule.area_kinds:
            wanted = " or ".join(sorted(k.name.lower().replace("_", " ") for k in rule.area_kinds))
            raise InvalidQueryError(
                f"{self.data_type} needs a {wanted}; {self.area.short_name} is not one."
            )
        if rule.out_area_param and self.out_area is None:
            raise InvalidQueryError(
                f"{self.data_type} is directional and needs two areas: the area the energy "
                "flows into and out_area, the area it comes from (e.g. area FR, out_area DE_LU)."
            )
        if not rule.out_area_param and self.out_area is not None:
            raise InvalidQueryError(f"{self.data_type} takes one area; drop out_area.")
        if self.psr_type is not None and not rule.psr_type_allowed:
            raise InvalidQueryError(f"{self.data_type} does not take a psr_type.")
        if self.psr_type is not None:
            object.__setattr__(self, "psr_type", parse_psr_type(self.psr_type))
        if self.contract_type is not None:
            object.__setattr__(
                self, "contract_type", parse_contract_type(rule, self.contract_type, self.data_type)
            )

    @property
    def asked_contract_type(self) -> str | None:
        """The horizon this query asks for: its own, else its type's default."""
        return self.contract_type or self.rule.default_contract_type

    @classmethod
    def build(
        cls,
        data_type: DataType | str,
        area: Area | str,
        start: datetime,
        end: datetime,
        *,
        psr_type: str | None = None,
        out_area: Area | str | None = None,
        contract_type: str | None = None,
    ) -> Query:
        """A query from names as users type them (``"actual_load"``, ``"DE_LU"`` or an EIC)."""
        return cls(
            parse_data_type(data_type),
            area if isinstance(area, Area) else Area.lookup(area),
            start,
            end,
            psr_type=psr_type,
            out_area=(
                out_area
                if out_area is None or isinstance(out_area, Area)
                else Area.lookup(out_area)
            ),
            contract_type=contract_type,
        )

    def chunks(self) -> list[tuple[datetime, datetime]]:
        """The half-open sub-ranges this query is sent as, each within the platform's limit:
        months counted from each chunk's UTC start (as the platform counts them), days on the
        area's local calendar."""
        span = self.rule.max_span
        return split_range(self.start, self.end, span, UTC if span.months else self.area.time_zone)

    def to_params(self, start: datetime, end: datetime) -> dict[str, str]:
        """The query string for the sub-range ``[start, end)`` of this query (no token)."""
        rule = self.rule
        params = {"documentType": rule.document_type}
        if rule.process_type:
            params["processType"] = rule.process_type
        for name in rule.area_params:
            params[name] = self.area.eic
        if rule.out_area_param and self.out_area is not None:
            params[rule.out_area_param] = self.out_area.eic
        params.update(rule.extra_params)
        if self.contract_type:
            params["contract_MarketAgreement.Type"] = self.contract_type
        if self.psr_type:
            params["psrType"] = self.psr_type
        params["periodStart"] = format_period(start)
        params["periodEnd"] = format_period(end, round_up=True)
        return params
