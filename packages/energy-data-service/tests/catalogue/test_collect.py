"""`energy-data collect` of every catalogue type from the stand-in stores exactly what it served,
across the autumn DST switch (27 October 2024: a 25-hour day in Brussels).

The reference is what the stand-in sent: each answered request's document generated again
(values are a pure function of time) and read by the client's parser, independent of the store.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import timedelta

from energy_data_service.cli import app
from energy_data_service.domain import DATA_TYPES
from entsoe_client import PLATFORM_TABLE, DataType, iter_rows, parse_response
from entsoe_client.testing import FakePlatform, Reply, generate_document
from typer.testing import CliRunner

from .rows import key_of

runner = CliRunner()
_HOUR = timedelta(hours=1)
START, END = "2024-10-26T00:00+02:00", "2024-10-28T00:00+01:00"
NEW_TYPES = DATA_TYPES[7:]
COARSE = ("installed_capacity", "installed_capacity_per_unit", "water_reservoirs")
"""Yearly and weekly points: collected over the whole local year 2024 (both DST switches)."""
YEAR = ("2024-01-01T00:00+01:00", "2025-01-01T00:00+01:00")


def _cell(value: object) -> str:
    if value is None:
        return ""
    isoformat = getattr(value, "isoformat", None)
    return str(isoformat() if isoformat else value)


def _served(platform: FakePlatform, data_type: str) -> list[dict[str, str]]:
    rule = PLATFORM_TABLE[DataType(data_type)]
    rows: dict[tuple[str, ...], dict[str, str]] = {}
    for request in platform.requests:
        params = request.params
        if request.status != 200 or params.get("documentType") != rule.document_type:
            continue
        if params.get("processType") != rule.process_type:
            continue
        body = generate_document(params, resolution=platform.resolution)
        for row in iter_rows(parse_response(body)):
            text = {k: _cell(v) for k, v in row.items()}
            rows[key_of(text)] = text
    return list(rows.values())


def test_every_catalogue_type_is_collected_as_served(
    cli_env: dict[str, str], fake_platform: FakePlatform
) -> None:
    fake_platform.resolution = "PT15M"
    fine = [arg for t in NEW_TYPES if t not in COARSE for arg in ("--data-type", t)]
    coarse = [arg for t in COARSE for arg in ("--data-type", t)]
    border = ["--out-area", "DE_LU"]
    for types, extra, (first, last) in ((fine, border, (START, END)), (coarse, [], YEAR)):
        args = ["collect", "--area", "FR", *types, *extra, "--start", first]
        result = runner.invoke(app, [*args, "--end", last], env=cli_env)
        assert result.exit_code == 0, result.output

    for data_type in NEW_TYPES:
        served = _served(fake_platform, data_type)
        assert served, data_type
        first = min(r["timestamp"] for r in served)
        last = max(r["end"] for r in served)
        export = ["export", "--data-type", data_type, "--area", "FR", "--start", first]
        export += ["--end", last]
        if PLATFORM_TABLE[DataType(data_type)].out_area_param:
            export += ["--out-area", "DE_LU"]
        result = runner.invoke(app, export, env=cli_env)
        assert result.exit_code == 0, result.output
        lines = [line for line in result.stdout.splitlines() if "points exported" not in line]
        exported = list(csv.DictReader(io.StringIO("\n".join(lines))))
        assert Counter(map(key_of, exported)) == Counter(map(key_of, served)), data_type
        if data_type == "generation_per_type":  # generation and consumption of B10 kept apart
            b10 = {(r["in_domain"], r["out_domain"]) for r in exported if r["psr_type"] == "B10"}
            assert b10 == {("10YFR-RTE------C", ""), ("", "10YFR-RTE------C")}


def test_a_refused_type_area_combination_is_one_line_and_stores_nothing(
    cli_env: dict[str, str], fake_platform: FakePlatform
) -> None:
    text = (
        "The combination of [in_Domain=10YPL-AREA-----S, out_Domain=10YFR-RTE------C] is not "
        "valid: the areas are not neighbours."
    )
    fake_platform.enqueue(Reply.acknowledgement(text, code="999", status=400), times=10)
    args = ["collect", "--area", "PL", "--data-type", "physical_flows", "--out-area", "FR"]
    result = runner.invoke(app, [*args, "--start", START, "--end", END], env=cli_env)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "not neighbours" in result.output
    export = ["export", "--data-type", "physical_flows", "--area", "PL", "--out-area", "FR"]
    exported = runner.invoke(app, [*export, "--start", START, "--end", END], env=cli_env)
    assert exported.exit_code == 0
    assert "0 points exported" in exported.output


def test_a_directional_type_without_out_area_says_so(cli_env: dict[str, str]) -> None:
    args = ["collect", "--area", "FR", "--data-type", "physical_flows", "--start", START]
    result = runner.invoke(app, [*args, "--end", END], env=cli_env)
    assert result.exit_code == 2
    assert "directional: give --out-area" in result.output
    unknown = runner.invoke(app, ["collect", "--data-type", "generation_per_typ"], env=cli_env)
    assert unknown.exit_code == 2
    assert "generation_per_type" in unknown.output


def _export(cli_env: dict[str, str], *args: str) -> list[dict[str, str]]:
    result = runner.invoke(app, ["export", *args, "--start", START, "--end", END], env=cli_env)
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if "points exported" not in line]
    return list(csv.DictReader(io.StringIO("\n".join(lines))))


def test_two_horizons_of_one_border_are_collected_side_by_side(
    cli_env: dict[str, str], fake_platform: FakePlatform
) -> None:
    """Day-ahead and week-ahead capacities of FR←DE_LU, asked one after the other: the stand-in
    answers without a contract type (as the platform does) and the week-ahead values are 0.9
    of the day-ahead ones; both are stored, neither overwrites the other."""
    border = ["--data-type", "net_transfer_capacity", "--area", "FR", "--out-area", "DE_LU"]
    for horizon in ("A01", "week_ahead"):
        args = ["collect", *border, "--contract-type", horizon, "--start", START, "--end", END]
        result = runner.invoke(app, args, env=cli_env)
        assert result.exit_code == 0, result.output
    asked = [r.params.get("contract_MarketAgreement.Type") for r in fake_platform.requests]
    assert set(asked) == {"A01", "A02"}

    rows = _export(cli_env, *border[:2], *border[2:])
    by_horizon: dict[str, dict[str, float]] = {}
    for row in rows:
        by_horizon.setdefault(row["contract_type"], {})[row["timestamp"]] = float(row["value"])
    assert set(by_horizon) == {"A01", "A02"}
    day, week = by_horizon["A01"], by_horizon["A02"]
    assert len(day) == len(week) == 24 + 25  # the 25-hour day included
    assert all(abs(week[t] - 0.9 * day[t]) < 1e-6 for t in day)
    only_week = _export(cli_env, *border, "--contract-type", "A02")
    assert {float(r["value"]) for r in only_week} == set(week.values())

    refused = runner.invoke(app, ["collect", *border, "--contract-type", "A05"], env=cli_env)
    assert refused.exit_code == 2
    assert "A02 (week_ahead)" in refused.output
    assert "Traceback" not in refused.output


def test_both_imbalance_prices_are_collected(
    cli_env: dict[str, str], fake_platform: FakePlatform
) -> None:
    """The long (A04) and short (A05) prices of each quarter-hour, two series the stand-in
    tells apart only by ``imbalance_Price.category``: both stored, short = 1.25 × long."""
    fake_platform.resolution = "PT15M"
    args = ["collect", "--area", "FR", "--data-type", "imbalance_prices", "--start", START]
    result = runner.invoke(app, [*args, "--end", END], env=cli_env)
    assert result.exit_code == 0, result.output
    rows = _export(cli_env, "--data-type", "imbalance_prices", "--area", "FR")
    prices: dict[str, dict[str, float]] = {}
    for row in rows:
        prices.setdefault(row["price_category"], {})[row["timestamp"]] = float(row["value"])
    assert set(prices) == {"A04", "A05"}
    assert len(prices["A04"]) == len(prices["A05"]) == (24 + 25) * 4
    assert all(abs(prices["A05"][t] - 1.25 * v) < 1e-6 for t, v in prices["A04"].items())


def test_a_backfill_of_borders_stores_what_was_served_and_resumes_per_border(
    cli_env: dict[str, str], fake_platform: FakePlatform
) -> None:
    """``energy-data backfill`` of flows and capacities into FR from DE_LU and from BE, across
    the DST switch: every border is its own plan and series, and a second run with --resume
    asks for nothing again."""
    types = ["--data-type", "physical_flows", "--data-type", "net_transfer_capacity"]
    args = ["backfill", "--area", "FR", *types, "--out-area", "DE_LU", "--out-area", "BE"]
    args += ["--start", START, "--end", END]
    result = runner.invoke(app, args, env=cli_env)
    assert result.exit_code == 0, result.output
    assert "FR←DE_LU" in result.output
    assert "FR←BE" in result.output
    sent = [r.params for r in fake_platform.requests if r.status == 200]
    asked = {(p["documentType"], p["out_Domain"]) for p in sent}
    assert asked == {
        (d, o) for d in ("A11", "A61") for o in ("10Y1001A1001A82H", "10YBE----------2")
    }
    for data_type in ("physical_flows", "net_transfer_capacity"):
        served = _served(fake_platform, data_type)
        for source in ("DE_LU", "BE"):
            eic = "10Y1001A1001A82H" if source == "DE_LU" else "10YBE----------2"
            exported = _export(
                cli_env, "--data-type", data_type, "--area", "FR", "--out-area", source
            )
            expected = [r for r in served if r["out_domain"] == eic]
            assert expected, (data_type, source)
            assert Counter(map(key_of, exported)) == Counter(map(key_of, expected))
            assert len(exported) == 24 + 25

    before = len(fake_platform.requests)
    again = runner.invoke(app, [*args, "--resume"], env=cli_env)
    assert again.exit_code == 0, again.output
    assert len(fake_platform.requests) == before  # every chunk of both borders was done

    missing = runner.invoke(
        app, ["backfill", "--area", "FR", *types, "--start", START, "--end", END], env=cli_env
    )
    assert missing.exit_code == 2
    assert "directional: give --out-area" in missing.output


def test_gap_filling_keeps_the_configured_horizons_of_every_border(
    cli_env: dict[str, str], fake_platform: FakePlatform
) -> None:
    """``COLLECTION__CONTRACT_TYPES=day_ahead,week_ahead``: gap filling fetches both horizons
    of the capacities of each configured border, exchanges only their day-ahead (the one of the
    two they publish), and a second pass finds nothing of either missing."""
    env = {
        **cli_env,
        "COLLECTION__AREAS": "FR",
        "COLLECTION__DATA_TYPES": "net_transfer_capacity,scheduled_exchanges",
        "COLLECTION__BORDERS": "DE_LU>FR",
        "COLLECTION__CONTRACT_TYPES": "day_ahead,week_ahead",
        "COLLECTION__LOOKBACK_DAYS": "2",
    }
    result = runner.invoke(app, ["collect"], env=env)
    assert result.exit_code == 0, result.output
    asked = {
        (r.params["documentType"], r.params.get("contract_MarketAgreement.Type"))
        for r in fake_platform.requests
    }
    assert asked == {("A61", "A01"), ("A61", "A02"), ("A09", "A01")}
    before = len(fake_platform.requests)
    again = runner.invoke(app, ["collect"], env=env)
    assert again.exit_code == 0, again.output
    # only the forecast-like horizon at "now" may be asked again, never the stored past
    repeated = fake_platform.requests[before:]
    assert all(r.period[0] >= fake_platform.requests[0].period[1] - _HOUR for r in repeated)
    wrong = runner.invoke(app, ["collect"], env={**env, "COLLECTION__CONTRACT_TYPES": "A09"})
    assert wrong.exit_code == 2
    assert "unknown contract type 'A09'" in wrong.output


def test_every_catalogue_type_is_backfilled_as_served(
    cli_env: dict[str, str], fake_platform: FakePlatform
) -> None:
    """``energy-data backfill`` of every catalogue type (directional ones for FR←DE_LU) across
    the autumn DST switch, the coarse ones over the local year: what is stored is exactly what
    the stand-in served."""
    fake_platform.resolution = "PT15M"
    fine = [arg for t in NEW_TYPES if t not in COARSE for arg in ("--data-type", t)]
    coarse = [arg for t in COARSE for arg in ("--data-type", t)]
    for types, extra, (first, last) in (
        (fine, ["--out-area", "DE_LU"], (START, END)),
        (coarse, [], YEAR),
    ):
        args = ["backfill", "--area", "FR", *types, *extra, "--start", first, "--end", last]
        result = runner.invoke(app, args, env=cli_env)
        assert result.exit_code == 0, result.output
    for data_type in NEW_TYPES:
        served = _served(fake_platform, data_type)
        assert served, data_type
        export = ["export", "--data-type", data_type, "--area", "FR"]
        export += ["--start", min(r["timestamp"] for r in served)]
        export += ["--end", max(r["end"] for r in served)]
        if PLATFORM_TABLE[DataType(data_type)].out_area_param:
            export += ["--out-area", "DE_LU"]
        result = runner.invoke(app, export, env=cli_env)
        assert result.exit_code == 0, result.output
        lines = [line for line in result.stdout.splitlines() if "points exported" not in line]
        exported = list(csv.DictReader(io.StringIO("\n".join(lines))))
        assert Counter(map(key_of, exported)) == Counter(map(key_of, served)), data_type
