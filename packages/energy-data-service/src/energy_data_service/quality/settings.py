"""Settings of the data-quality checks (``QUALITY__…``); ``settings.Settings`` holds the section."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator


class QualitySettings(BaseModel):
    """Limits the daily quality checks use.

    Price limits default to the SDAC harmonised clearing-price range (−500 to +4,000 EUR/MWh,
    in force since May 2022; the automatic step to +5,000 announced for September 2022 was
    suspended). Change them here when the market's limits move.
    """

    price_min: float = -500.0
    price_max: float = 4000.0
    flat_line_hours: float = Field(default=4.0, gt=0)
    """Identical consecutive values spanning at least this long count as a flat line."""
    outlier_weeks: int = Field(default=4, ge=3, le=12)
    """Weeks of the same local hour a value is compared with."""
    outlier_threshold: float = Field(default=6.0, gt=0)
    """Robust z-score (distance from the median in scaled MADs) beyond which a value is odd."""
    report_hour_utc: int = Field(default=3, ge=0, le=23)
    """When the scheduler scores yesterday and re-fetches what is missing."""

    @model_validator(mode="after")
    def _ordered_limits(self) -> QualitySettings:
        if self.price_min >= self.price_max:
            raise ValueError("QUALITY__PRICE_MIN must be below QUALITY__PRICE_MAX")
        return self
