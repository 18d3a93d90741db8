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
}
