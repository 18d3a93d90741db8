"""Every catalogue type has a publication schedule and a value rule, and the rules hold."""

from __future__ import annotations

from energy_data_service.domain import DATA_TYPES
from energy_data_service.monitoring.publication import PUBLICATION_LAGS
from energy_data_service.quality.checks import invalid_values
from energy_data_service.quality.value_rules import VALUE_RULES


def test_every_data_type_has_a_publication_schedule_and_a_value_rule() -> None:
    assert set(PUBLICATION_LAGS) == set(DATA_TYPES)
    assert set(VALUE_RULES) == set(DATA_TYPES[7:])


def test_negative_generation_is_invalid_except_in_consumption_series() -> None:
    values = [0.0, 12.5, -3.0]
    assert invalid_values(values, "generation_per_type", -500, 4000) == 1
    assert invalid_values(values, "generation_per_type", -500, 4000, consumption=True) == 0
    assert invalid_values(values, "physical_flows", -500, 4000) == 1
    assert invalid_values(values, "net_positions", -500, 4000) == 0
    assert invalid_values([float("nan"), -9000.0], "imbalance_prices", -500, 4000) == 1


def test_held_values_and_zero_runs_follow_the_type() -> None:
    """A transfer capacity held all day is how it is published (no flat-line component); a
    day of the same non-zero flow is a stuck feed; hours of zero flow are not (energy flows
    the other way)."""
    from datetime import UTC, date, datetime, timedelta
    from zoneinfo import ZoneInfo

    from energy_data_service.quality.checks import Observation
    from energy_data_service.quality.score import assess_day
    from energy_data_service.quality.settings import QualitySettings

    zone = ZoneInfo("Europe/Paris")
    start = datetime(2024, 6, 14, 22, tzinfo=UTC)
    hours = [start + timedelta(hours=h) for h in range(24)]

    def day(data_type: str, value: float) -> tuple[int, float]:
        quality = assess_day(
            day=date(2024, 6, 15),
            zone=zone,
            data_type=data_type,
            resolution="PT60M",
            points=[Observation(t, value) for t in hours],
            history={},
            actual_load=None,
            settings=QualitySettings(),
        )
        return quality.flat_points, quality.score

    assert day("net_transfer_capacity", 1200.0) == (0, 100.0)
    assert day("physical_flows", 0.0) == (0, 100.0)
    assert day("physical_flows", 850.0) == (24, 89.5)  # (50 + 20 + 10 + 0 + 5) / 95
