"""Queries are checked before anything is sent, and turn into the platform's exact parameters."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from entsoe_client import (
    PLATFORM_TABLE,
    Area,
    DataType,
    InvalidQueryError,
    Query,
    Span,
    UnknownAreaError,
)
from entsoe_client._queries import format_period

BERLIN = ZoneInfo("Europe/Berlin")
JAN_1 = datetime(2024, 1, 1, tzinfo=BERLIN)
JAN_2 = datetime(2024, 1, 2, tzinfo=BERLIN)

EXPECTED_CODES = {
    "actual_load": ("A65", "A16"),
    "day_ahead_forecast": ("A65", "A01"),
    "week_ahead_forecast": ("A65", "A31"),
    "month_ahead_forecast": ("A65", "A32"),
    "year_ahead_forecast": ("A65", "A33"),
    "forecast_margin": ("A70", "A33"),
    "generation_per_type": ("A75", "A16"),
    "generation_per_unit": ("A73", "A16"),
    "generation_forecast": ("A71", "A01"),
    "wind_solar_forecast": ("A69", "A01"),
    "wind_solar_forecast_intraday": ("A69", "A40"),
    "wind_solar_forecast_current": ("A69", "A18"),
    "installed_capacity": ("A68", "A33"),
    "installed_capacity_per_unit": ("A71", "A33"),
    "water_reservoirs": ("A72", "A16"),
    "physical_flows": ("A11", None),
    "scheduled_exchanges": ("A09", None),
    "net_transfer_capacity": ("A61", None),
    "offered_capacity": ("A31", None),
    "day_ahead_prices": ("A44", None),
    "net_positions": ("A25", None),
    "imbalance_prices": ("A85", None),
    "imbalance_volumes": ("A86", None),
    "contracted_reserves": ("A81", None),
    "contracted_reserve_prices": ("A89", None),
    "activated_balancing_prices": ("A84", "A16"),
}


def test_data_types_are_exactly_the_documented_ones() -> None:
    assert [d.value for d in DataType] == list(EXPECTED_CODES)
    for data_type, (document_type, process_type) in EXPECTED_CODES.items():
        rule = PLATFORM_TABLE[DataType(data_type)]
        assert (rule.document_type, rule.process_type) == (document_type, process_type)


def test_load_params_use_out_bidding_zone_and_utc_minutes() -> None:
    query = Query.build("actual_load", "DE_LU", JAN_1, JAN_2)
    assert query.to_params(query.start, query.end) == {
        "documentType": "A65",
        "processType": "A16",
        "outBiddingZone_Domain": "10Y1001A1001A82H",
        "periodStart": "202312312300",
        "periodEnd": "202401012300",
    }


def test_price_params_put_the_zone_in_both_domains() -> None:
    query = Query.build(DataType.day_ahead_prices, Area.NL, JAN_1, JAN_2)
    params = query.to_params(query.start, query.end)
    assert params["documentType"] == "A44"
    assert "processType" not in params
    assert params["in_Domain"] == params["out_Domain"] == Area.NL.eic
    assert params["contract_MarketAgreement.type"] == "A01"


def test_flows_take_both_areas_and_generation_takes_psr_type() -> None:
    flows = Query.build("physical_flows", "NL", JAN_1, JAN_2, out_area="DE_LU")
    params = flows.to_params(JAN_1, JAN_2)
    assert (params["in_Domain"], params["out_Domain"]) == (Area.NL.eic, Area.DE_LU.eic)
    generation = Query.build("generation_per_type", "FR", JAN_1, JAN_2, psr_type="B16")
    assert generation.to_params(JAN_1, JAN_2)["psrType"] == "B16"
    assert generation.to_params(JAN_1, JAN_2)["in_Domain"] == Area.FR.eic


def test_period_end_with_seconds_rounds_up_so_the_last_point_is_asked_for() -> None:
    moment = datetime(2024, 1, 1, 10, 15, 30, tzinfo=UTC)
    assert format_period(moment) == "202401011015"
    assert format_period(moment, round_up=True) == "202401011016"
    assert format_period(moment.replace(second=0), round_up=True) == "202401011015"


def test_naive_datetimes_are_refused_with_a_hint_to_pass_a_timezone() -> None:
    with pytest.raises(InvalidQueryError, match="no timezone; pass an aware datetime"):
        Query.build("actual_load", "DE_LU", datetime(2024, 1, 1), JAN_2)


def test_start_must_be_before_end() -> None:
    with pytest.raises(InvalidQueryError, match="must be before end"):
        Query.build("actual_load", "DE_LU", JAN_2, JAN_1)
    with pytest.raises(InvalidQueryError, match="must be before end"):
        Query.build("actual_load", "DE_LU", JAN_1, JAN_1)


def test_prices_need_a_bidding_zone() -> None:
    with pytest.raises(InvalidQueryError, match="needs a bidding zone; DE_TENNET is not one"):
        Query.build("day_ahead_prices", "DE_TENNET", JAN_1, JAN_2)


def test_flows_need_two_areas_and_others_only_one() -> None:
    with pytest.raises(InvalidQueryError, match="needs two areas"):
        Query.build("physical_flows", "NL", JAN_1, JAN_2)
    with pytest.raises(InvalidQueryError, match="takes one area"):
        Query.build("actual_load", "NL", JAN_1, JAN_2, out_area="DE_LU")
    with pytest.raises(InvalidQueryError, match="does not take a psr_type"):
        Query.build("actual_load", "NL", JAN_1, JAN_2, psr_type="B16")


def test_unknown_names_list_the_choices() -> None:
    with pytest.raises(InvalidQueryError, match="Choose one of: actual_load, day_ahead_forecast"):
        Query.build("load", "DE_LU", JAN_1, JAN_2)
    with pytest.raises(UnknownAreaError):
        Query.build("actual_load", "ATLANTIS", JAN_1, JAN_2)


def test_queries_are_immutable_and_comparable() -> None:
    query = Query.build("actual_load", "DE_LU", JAN_1, JAN_2)
    assert query == Query(DataType.actual_load, Area.DE_LU, JAN_1, JAN_2)
    with pytest.raises(AttributeError):
        query.start = JAN_2  # type: ignore[misc]


def test_limits_come_from_the_table() -> None:
    assert PLATFORM_TABLE[DataType.actual_load].max_span == Span(months=1)
    assert PLATFORM_TABLE[DataType.year_ahead_forecast].max_span == Span(months=12)
    assert PLATFORM_TABLE[DataType.forecast_margin].max_span == Span(months=12)
    assert PLATFORM_TABLE[DataType.day_ahead_prices].max_span == Span(days=99)
    year = Query.build("day_ahead_prices", "DE_LU", JAN_1, JAN_1.replace(year=2025))
    chunks = year.chunks()
    assert len(chunks) == 4
    assert chunks[0][0] == JAN_1
    assert chunks[-1][1] == JAN_1.replace(year=2025)
    # every chunk covers at most 99 German days (a page of 100 never full), also across DST
    for start, end in chunks:
        assert end - start <= timedelta(days=99, hours=1)
        assert end.astimezone(BERLIN).hour == 0
