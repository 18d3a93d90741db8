"""Every data type of the catalogue asks the platform with the parameters of its API guide.

The expected query strings are written out by hand from the platform's guide (document,
process and business types, which domain parameter carries the area, contract and auction
types), not derived from ``PLATFORM_TABLE``.
"""

from datetime import UTC, datetime

import pytest
from entsoe_client import PLATFORM_TABLE, DataType, InvalidQueryError, Query, Span

START = datetime(2024, 1, 1, tzinfo=UTC)
END = datetime(2024, 1, 2, tzinfo=UTC)
DE, FR = "10Y1001A1001A82H", "10YFR-RTE------C"

# data type → (area, out_area, the parameters besides periodStart/periodEnd)
GUIDE: dict[str, tuple[str, str | None, dict[str, str]]] = {
    "generation_per_type": (
        "DE_LU",
        None,
        {"documentType": "A75", "processType": "A16", "in_Domain": DE},
    ),
    "generation_per_unit": (
        "DE_LU",
        None,
        {"documentType": "A73", "processType": "A16", "in_Domain": DE},
    ),
    "generation_forecast": (
        "DE_LU",
        None,
        {"documentType": "A71", "processType": "A01", "in_Domain": DE},
    ),
    "wind_solar_forecast": (
        "DE_LU",
        None,
        {"documentType": "A69", "processType": "A01", "in_Domain": DE},
    ),
    "wind_solar_forecast_intraday": (
        "DE_LU",
        None,
        {"documentType": "A69", "processType": "A40", "in_Domain": DE},
    ),
    "wind_solar_forecast_current": (
        "DE_LU",
        None,
        {"documentType": "A69", "processType": "A18", "in_Domain": DE},
    ),
    "installed_capacity": (
        "DE_LU",
        None,
        {"documentType": "A68", "processType": "A33", "in_Domain": DE},
    ),
    "installed_capacity_per_unit": (
        "DE_LU",
        None,
        {"documentType": "A71", "processType": "A33", "in_Domain": DE},
    ),
    "water_reservoirs": (
        "FR",
        None,
        {"documentType": "A72", "processType": "A16", "in_Domain": FR},
    ),
    "physical_flows": ("FR", "DE_LU", {"documentType": "A11", "in_Domain": FR, "out_Domain": DE}),
    "scheduled_exchanges": (
        "FR",
        "DE_LU",
        {
            "documentType": "A09",
            "in_Domain": FR,
            "out_Domain": DE,
            "contract_MarketAgreement.Type": "A05",
        },
    ),
    "net_transfer_capacity": (
        "FR",
        "DE_LU",
        {
            "documentType": "A61",
            "in_Domain": FR,
            "out_Domain": DE,
            "contract_MarketAgreement.Type": "A01",
        },
    ),
    "offered_capacity": (
        "FR",
        "DE_LU",
        {
            "documentType": "A31",
            "in_Domain": FR,
            "out_Domain": DE,
            "auction.Type": "A01",
            "contract_MarketAgreement.Type": "A01",
        },
    ),
    "day_ahead_prices": (
        "FR",
        None,
        {
            "documentType": "A44",
            "in_Domain": FR,
            "out_Domain": FR,
            "contract_MarketAgreement.type": "A01",
        },
    ),
    "net_positions": (
        "FR",
        None,
        {
            "documentType": "A25",
            "in_Domain": FR,
            "out_Domain": FR,
            "businessType": "B09",
            "contract_MarketAgreement.Type": "A01",
        },
    ),
    "imbalance_prices": ("FR", None, {"documentType": "A85", "controlArea_Domain": FR}),
    "imbalance_volumes": ("FR", None, {"documentType": "A86", "controlArea_Domain": FR}),
    "contracted_reserves": (
        "FR",
        None,
        {
            "documentType": "A81",
            "controlArea_Domain": FR,
            "businessType": "B95",
            "type_MarketAgreement.Type": "A01",
        },
    ),
    "contracted_reserve_prices": (
        "FR",
        None,
        {"documentType": "A89", "controlArea_Domain": FR, "type_MarketAgreement.Type": "A01"},
    ),
    "activated_balancing_prices": (
        "FR",
        None,
        {"documentType": "A84", "processType": "A16", "controlArea_Domain": FR},
    ),
}


@pytest.mark.parametrize("data_type", sorted(GUIDE))
def test_each_type_asks_with_the_guides_parameters(data_type: str) -> None:
    area, out_area, expected = GUIDE[data_type]
    query = Query.build(data_type, area, START, END, out_area=out_area)
    params = query.to_params(START, END)
    assert params.pop("periodStart") == "202401010000"
    assert params.pop("periodEnd") == "202401020000"
    assert params == expected


def test_the_span_limits_follow_the_platform() -> None:
    limits = {d.value: PLATFORM_TABLE[d].max_span for d in DataType}
    assert limits["generation_per_type"] == Span(months=1)  # was one day: 12x fewer requests
    assert limits["imbalance_volumes"] == Span(months=1)
    assert limits["generation_per_unit"] == Span(days=1)
    assert limits["installed_capacity"] == Span(months=12)
    assert limits["physical_flows"] == Span(months=12)
    assert limits["day_ahead_prices"] == Span(days=99)  # 100 daily series to a page


@pytest.mark.parametrize("data_type", [d for d in GUIDE if GUIDE[d][1]])
def test_a_directional_type_without_out_area_says_so(data_type: str) -> None:
    with pytest.raises(InvalidQueryError, match=r"directional.*out_area"):
        Query.build(data_type, "FR", START, END)


def test_production_types_by_code_or_name_and_unknown_ones_with_close_matches() -> None:
    assert Query.build("generation_per_type", "FR", START, END, psr_type="solar").psr_type == "B16"
    assert Query.build("generation_per_type", "FR", START, END, psr_type="b19").psr_type == "B19"
    with pytest.raises(InvalidQueryError, match="did you mean solar"):
        Query.build("generation_per_type", "FR", START, END, psr_type="solr")


def test_an_unknown_data_type_lists_close_matches() -> None:
    with pytest.raises(InvalidQueryError, match="Did you mean generation_per_type"):
        Query.build("generation_per_typ", "FR", START, END)
