"""When each data type's values should be on the platform: the one table of publication lags.

Staleness is measured against this, not against "now": actual load arrives an hour or two after
real time, while day-ahead prices for tomorrow exist from the early afternoon on.

============================  ==================================================================
data type                     stored values should reach at least
============================  ==================================================================
actual_load                   now − 2 h (TSOs publish within about an hour of real time)
day_ahead_forecast            end of tomorrow (local) from 11:00 UTC, else end of today
day_ahead_prices              end of tomorrow (local) from 13:00 UTC (SDAC results ~12:45 CET
                              reach the platform by ~13:00 CET), else end of today
week/month/year-ahead,        end of today (local): the published horizon always covers today
forecast_margin
generation_per_type,          now − 2 h (realised, published within an hour of the period)
physical_flows
imbalance_prices/volumes,     now − 1 h (settlement-period data published shortly after it)
activated_balancing_prices
generation_per_unit           now − 5 days (published up to five days after the period)
water_reservoirs              now − 10 days (weekly, published in the following week)
wind_solar_forecast,          end of tomorrow (local) from 17:00 UTC (published 18:00 CET D-1)
generation_forecast
net_transfer_capacity         end of tomorrow from 09:00 UTC (before the day-ahead auction)
offered_capacity,             end of tomorrow from 10:00 UTC (capacity auctions and offers D-1)
contracted_reserves/prices
net_positions                 end of tomorrow from 13:00 UTC (market coupling results)
scheduled_exchanges           end of tomorrow from 16:00 UTC (day-ahead nominations)
wind_solar intraday/current,  end of today (local)
capacities (2)
============================  ==================================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class PublicationLag:
    """How far behind (or ahead of) now a data type's newest value should be."""

    behind_now: timedelta | None = None
    """Real-time data: values up to now minus this."""
    next_day_from_utc: time | None = None
    """Day-ahead data: tomorrow's values are out from this UTC time of day."""

    def expected_end(self, now: datetime, zone: ZoneInfo) -> datetime:
        """The end of the newest interval a complete series has at ``now``."""
        if self.behind_now is not None:
            return now - self.behind_now
        local_now = now.astimezone(zone)
        days = 1
        if self.next_day_from_utc is not None and now.astimezone(UTC).time() >= (
            self.next_day_from_utc
        ):
            days = 2
        midnight = datetime.combine(local_now.date() + timedelta(days=days), time(0))
        return midnight.replace(tzinfo=zone).astimezone(UTC)


PUBLICATION_LAGS: dict[str, PublicationLag] = {
    "actual_load": PublicationLag(behind_now=timedelta(hours=2)),
    "day_ahead_forecast": PublicationLag(next_day_from_utc=time(11, 0)),
    "day_ahead_prices": PublicationLag(next_day_from_utc=time(13, 0)),
    "week_ahead_forecast": PublicationLag(),
    "month_ahead_forecast": PublicationLag(),
    "year_ahead_forecast": PublicationLag(),
    "forecast_margin": PublicationLag(),
    "generation_per_type": PublicationLag(behind_now=timedelta(hours=2)),
    "generation_per_unit": PublicationLag(behind_now=timedelta(days=5)),
    "generation_forecast": PublicationLag(next_day_from_utc=time(17, 0)),
    "wind_solar_forecast": PublicationLag(next_day_from_utc=time(17, 0)),
    "wind_solar_forecast_intraday": PublicationLag(),
    "wind_solar_forecast_current": PublicationLag(),
    "installed_capacity": PublicationLag(),
    "installed_capacity_per_unit": PublicationLag(),
    "water_reservoirs": PublicationLag(behind_now=timedelta(days=10)),
    "physical_flows": PublicationLag(behind_now=timedelta(hours=2)),
    "scheduled_exchanges": PublicationLag(next_day_from_utc=time(16, 0)),
    "net_transfer_capacity": PublicationLag(next_day_from_utc=time(9, 0)),
    "offered_capacity": PublicationLag(next_day_from_utc=time(10, 0)),
    "net_positions": PublicationLag(next_day_from_utc=time(13, 0)),
    "imbalance_prices": PublicationLag(behind_now=timedelta(hours=1)),
    "imbalance_volumes": PublicationLag(behind_now=timedelta(hours=1)),
    "contracted_reserves": PublicationLag(next_day_from_utc=time(10, 0)),
    "contracted_reserve_prices": PublicationLag(next_day_from_utc=time(10, 0)),
    "activated_balancing_prices": PublicationLag(behind_now=timedelta(hours=1)),
}
"""Every data type of the catalogue (``tests/catalogue/test_rules.py`` checks none is missing)."""
