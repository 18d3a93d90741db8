"""What can be asked of the platform, and the checks that run before anything is sent.

``PLATFORM_TABLE`` is the one place that knows the platform's codes and limits for each data
type: document and process type, which parameters carry the area, which kinds of area the
platform accepts, and the longest range one request may cover.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from entsoe_client.areas import Area, AreaKind
from entsoe_client.exceptions import InvalidQueryError
from entsoe_client.splitting import Span, split_range


class DataType(StrEnum):
    """The data sets this client fetches, named for what they hold."""

    actual_load = "actual_load"
    day_ahead_forecast = "day_ahead_forecast"
    week_ahead_forecast = "week_ahead_forecast"
    month_ahead_forecast = "month_ahead_forecast"
    year_ahead_forecast = "year_ahead_forecast"
    forecast_margin = "forecast_margin"
    day_ahead_prices = "day_ahead_prices"
    generation_per_type = "generation_per_type"
    wind_solar_forecast = "wind_solar_forecast"
    installed_capacity = "installed_capacity"
    physical_flows = "physical_flows"


_LOAD_AREAS = frozenset({AreaKind.BIDDING_ZONE, AreaKind.CONTROL_AREA, AreaKind.COUNTRY})
_ONE_MONTH = Span(months=1)
_ONE_YEAR = Span(months=12)


@dataclass(frozen=True, slots=True)
class PlatformRule:
    """How the platform wants one data type asked for.

    ``area_params`` name the parameters that carry the area's EIC (prices put the zone in both
    ``in_Domain`` and ``out_Domain``); ``out_area_param`` is set for two-area data (flows).
    ``max_span`` is the longest range one request may cover; ``paged`` marks document types the
    platform pages with ``offset``.
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


PLATFORM_TABLE: dict[DataType, PlatformRule] = {
    # Load and its forecasts: one month per request since the platform tightened it from a year.
    DataType.actual_load: PlatformRule(
        "A65", "A16", ("outBiddingZone_Domain",), _LOAD_AREAS, _ONE_MONTH
    ),
    DataType.day_ahead_forecast: PlatformRule(
        "A65", "A01", ("outBiddingZone_Domain",), _LOAD_AREAS, _ONE_MONTH
    ),
    DataType.week_ahead_forecast: PlatformRule(
        "A65", "A31", ("outBiddingZone_Domain",), _LOAD_AREAS, _ONE_MONTH
    ),
    DataType.month_ahead_forecast: PlatformRule(
        "A65", "A32", ("outBiddingZone_Domain",), _LOAD_AREAS, _ONE_MONTH
    ),
    # Year-ahead data come as weekly (P7D) or yearly (P1Y) points: a request must be able to
    # cover a whole year, or it can never hold a P1Y point.
    DataType.year_ahead_forecast: PlatformRule(
        "A65", "A33", ("outBiddingZone_Domain",), _LOAD_AREAS, _ONE_YEAR
    ),
    DataType.forecast_margin: PlatformRule(
        "A70", "A33", ("outBiddingZone_Domain",), _LOAD_AREAS, _ONE_YEAR
    ),
    # Prices: one series per day and at most 100 series ("instances") per answer; the platform
    # pages them with offset (DE_LU publishes two sequences, so 100 days can be 200 series).
    DataType.day_ahead_prices: PlatformRule(
        "A44",
        None,
        ("in_Domain", "out_Domain"),
        frozenset({AreaKind.BIDDING_ZONE}),
        Span(days=100),
        extra_params=(("contract_MarketAgreement.type", "A01"),),
        paged=True,
    ),
    # Generation per type: ~20 production types, and since late 2025 the platform counts
    # instances per day too; one day per request stays under the limit for every zone.
    DataType.generation_per_type: PlatformRule(
        "A75", "A16", ("in_Domain",), _LOAD_AREAS, Span(days=1), psr_type_allowed=True
    ),
    DataType.wind_solar_forecast: PlatformRule(
        "A69", "A01", ("in_Domain",), _LOAD_AREAS, _ONE_MONTH, psr_type_allowed=True
    ),
    DataType.installed_capacity: PlatformRule(
        "A68", "A33", ("in_Domain",), _LOAD_AREAS, _ONE_YEAR, psr_type_allowed=True
    ),
    DataType.physical_flows: PlatformRule(
        "A11",
        None,
        ("in_Domain",),
        frozenset(AreaKind),
        _ONE_MONTH,
        out_area_param="out_Domain",
    ),
}


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
        choices = ", ".join(d.value for d in DataType)
        raise InvalidQueryError(f"Unknown data type {value!r}. Choose one of: {choices}.") from None


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
                f"{self.data_type} needs two areas: the area the energy flows into and "
                "out_area, the area it comes from."
            )
        if not rule.out_area_param and self.out_area is not None:
            raise InvalidQueryError(f"{self.data_type} takes one area; drop out_area.")
        if self.psr_type is not None and not rule.psr_type_allowed:
            raise InvalidQueryError(f"{self.data_type} does not take a psr_type.")

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
        )

    def chunks(self) -> list[tuple[datetime, datetime]]:
        """The half-open sub-ranges this query is sent as, each within the platform's limit."""
        return split_range(self.start, self.end, self.rule.max_span, self.area.time_zone)

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
        if self.psr_type:
            params["psrType"] = self.psr_type
        params["periodStart"] = format_period(start)
        params["periodEnd"] = format_period(end, round_up=True)
        return params
