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
