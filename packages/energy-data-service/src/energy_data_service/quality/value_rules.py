"""Which values can be right, per data type of the catalogue beyond load and day-ahead prices.

- Generation (per type, per unit, forecasts, wind and solar) is never negative: a plant that
  draws power publishes it as a consumption series, which may carry any sign (some TSOs publish
  pumping as negative). Zero is valid (solar at night).
- Capacities and reservoir stocks are never negative.
- Flows, exchanges and transfer capacities are never negative: the direction is in the series'
  two areas (``in_Domain`` ← ``out_Domain``), the other direction is its own series.
- Net positions, imbalance volumes and every balancing price may be negative (exports,
  short systems, negative prices): only finiteness is checked.

Flat lines (identical values for hours) mean a stuck feed for measured series, but are how
some types are published: capacities, transfer and offered capacities, reserves and their
prices, reservoir stocks and the forecast margin hold one value for days, so they are not
checked for flat lines. For generation and transmission a run of zeros is normal too (solar at
night, a plant off, a border whose energy flows the other way), so only non-zero runs count.
"""

from __future__ import annotations

from collections.abc import Callable

ValueRule = Callable[[float, bool], bool]
"""``rule(value, consumption)`` is True when the value can be right."""


def _not_negative(value: float, consumption: bool) -> bool:
    return consumption or value >= 0


def _any_sign(value: float, consumption: bool) -> bool:
    return True


_NOT_NEGATIVE = (
    "generation_per_type",
    "generation_per_unit",
    "generation_forecast",
    "wind_solar_forecast",
    "wind_solar_forecast_intraday",
    "wind_solar_forecast_current",
    "installed_capacity",
    "installed_capacity_per_unit",
    "water_reservoirs",
    "physical_flows",
    "scheduled_exchanges",
    "net_transfer_capacity",
    "offered_capacity",
    "contracted_reserves",
)
_ANY_SIGN = (
    "net_positions",
    "imbalance_prices",
    "imbalance_volumes",
    "contracted_reserve_prices",
    "activated_balancing_prices",
)
VALUE_RULES: dict[str, ValueRule] = {
    **dict.fromkeys(_NOT_NEGATIVE, _not_negative),
    **dict.fromkeys(_ANY_SIGN, _any_sign),
}


def catalogue_value_rule(data_type: str) -> ValueRule | None:
    """The rule of ``data_type``; ``None`` for load and day-ahead prices (checked as before)."""
    return VALUE_RULES.get(data_type)


_HELD_CONSTANT = frozenset(
    {
        "forecast_margin",
        "installed_capacity",
        "installed_capacity_per_unit",
        "water_reservoirs",
        "net_transfer_capacity",
        "offered_capacity",
        "contracted_reserves",
        "contracted_reserve_prices",
    }
)
_ZERO_IS_NORMAL = frozenset(
    {
        "generation_per_type",
        "generation_per_unit",
        "generation_forecast",
        "wind_solar_forecast",
        "wind_solar_forecast_intraday",
        "wind_solar_forecast_current",
        "physical_flows",
        "scheduled_exchanges",
        "net_positions",
        "imbalance_volumes",
    }
)


def flat_lines_checked(data_type: str) -> bool:
    """False for types published as values held for days (see the module's docstring)."""
    return data_type not in _HELD_CONSTANT


def zero_runs_normal(data_type: str) -> bool:
    """True where hours of zeros are what the platform publishes for a working feed."""
    return data_type in _ZERO_IS_NORMAL
