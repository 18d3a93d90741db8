"""The unit a stored series carries, told by the series itself."""

from __future__ import annotations

from entsoe_client import TimeSeries


def series_unit(series: TimeSeries) -> str:
    """``<currency>/<price unit>`` for prices (``EUR/MWH``), else the quantity unit (``MAW``).

    A series with both (explicit allocations) keeps the quantity's unit; its price has its own
    field.
    """
    if series.unit:
        return series.unit
    if series.currency:
        return f"{series.currency}/{series.price_unit or 'MWH'}"
    return "MAW"
