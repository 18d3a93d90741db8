"""The REST API reads catalogue series by production type and by border."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from energy_data_service.processors import process_documents
from entsoe_client import parse_response

from .conftest import LiveApi

SAMPLES = Path(__file__).resolve().parents[4] / "testdata" / "entsoe-samples"
GENERATION = (
    SAMPLES
    / "EuropeanPowerSystems__ENTSOE.jl/test__cassettes__tut_renewables_DE_LU_2024_06_15.yml.xml"
)
FLOWS = SAMPLES / "EuropeanPowerSystems__ENTSOE.jl/test__cassettes__tut_flows_DE_to_NL_week.yml.xml"
WINDOW = {"start_time": "2024-06-14T22:00:00Z", "end_time": "2024-06-15T22:00:00Z"}


async def _store(api: LiveApi, path: Path) -> None:
    documents = parse_response(path.read_bytes())
    await api.container.points.upsert(process_documents(documents, datetime.now(UTC)))  # type: ignore[arg-type]


async def test_production_types_are_read_one_by_one(live_api: LiveApi) -> None:
    await _store(live_api, GENERATION)
    params = {"area_code": "DE_LU", "data_type": "generation_per_type", **WINDOW}
    solar = await live_api.http.get("/api/v1/energy-data", params={**params, "psr_type": "solar"})
    assert solar.status_code == 200, solar.text
    body = solar.json()
    assert body["series"]["psr_type"] == "B16"
    assert body["count"] > 0
    wrong = await live_api.http.get("/api/v1/energy-data", params={**params, "psr_type": "solr"})
    assert wrong.status_code == 400
    assert "did you mean solar" in wrong.json()["detail"]


async def test_directional_data_needs_out_area(live_api: LiveApi) -> None:
    await _store(live_api, FLOWS)
    params = {"area_code": "NL", "data_type": "physical_flows"}
    params |= {"start_time": "2024-09-02T00:00:00Z", "end_time": "2024-09-03T00:00:00Z"}
    missing = await live_api.http.get("/api/v1/energy-data", params=params)
    assert missing.status_code == 400
    assert "out_area" in missing.json()["detail"]
    flows = await live_api.http.get("/api/v1/energy-data", params={**params, "out_area": "DE_LU"})
    assert flows.status_code == 200, flows.text
    assert flows.json()["series"]["out_area_code"] == "10Y1001A1001A82H"


async def test_coverage_lists_every_production_type_and_consumption_apart(
    live_api: LiveApi,
) -> None:
    await _store(live_api, GENERATION)
    params = {"area_code": "DE_LU", "data_type": "generation_per_type", **WINDOW}
    answer = await live_api.http.get("/api/v1/coverage", params=params)
    assert answer.status_code == 200, answer.text
    rows = answer.json()["series"]
    identities = {(r["psr_type"], r["out_area_code"]) for r in rows}
    assert ("B16", "") in identities  # solar generation
    assert ("B16", "10Y1001A1001A82H") in identities  # solar consumption, apart
    assert all(r["percent_complete"] == 100.0 for r in rows), rows


DEMO = SAMPLES / "EnergieID__entsoe-py"
NTC = [DEMO / f"query_net_transfer_capacity_{h}.xml" for h in ("dayahead", "weekahead")]
OCTOBER = {"start_time": "2020-10-11T22:00:00Z", "end_time": "2020-10-18T22:00:00Z"}


def _expected(path: Path, **identity: str) -> list[tuple[str, float]]:
    """(start, value) of every point of a recorded document, as the client parses it."""
    rows = []
    for point in process_documents(parse_response(path.read_bytes()), datetime.now(UTC)):  # type: ignore[arg-type]
        if all(getattr(point, k) == v for k, v in identity.items()):
            rows.append((point.timestamp.isoformat().replace("+00:00", "Z"), point.value))
    return sorted(rows)


def _stamp(text: str) -> str:
    return datetime.fromisoformat(text).astimezone(UTC).isoformat().replace("+00:00", "Z")


async def test_repeated_production_types_answer_one_table(live_api: LiveApi) -> None:
    await _store(live_api, GENERATION)
    params = [("area_code", "DE_LU"), ("data_type", "generation_per_type")]
    params += [("psr_type", "solar"), ("psr_type", "B19"), *WINDOW.items(), ("limit", "50")]
    rows: list[dict[str, object]] = []
    cursor = None
    pages = 0
    while True:
        answer = await live_api.http.get(
            "/api/v1/energy-data", params=params + ([("cursor", cursor)] if cursor else [])
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["count"] == len(body["rows"]) <= 50
        rows += body["rows"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages > 2
    series = {(s["psr_type"], s["out_area_code"]) for s in body["series"]}
    stored = process_documents(parse_response(GENERATION.read_bytes()), datetime.now(UTC))  # type: ignore[arg-type]
    assert series == {(p.psr_type, p.out_area_code) for p in stored if p.psr_type in ("B16", "B19")}
    for psr_type, out_area in series:
        got = sorted(
            (_stamp(str(r["timestamp"])), float(r["value"]))  # type: ignore[arg-type]
            for r in rows
            if r["psr_type"] == psr_type and r["out_area_code"] == out_area
        )
        assert got == _expected(GENERATION, psr_type=psr_type, out_area_code=out_area)
    assert {r["area_code"] for r in rows} == {"10Y1001A1001A82H"}
    assert len({(r["timestamp"], r["psr_type"], r["out_area_code"]) for r in rows}) == len(rows)

    csv_answer = await live_api.http.get("/api/v1/energy-data", params=[*params, ("format", "csv")])
    assert csv_answer.status_code == 200, csv_answer.text
    lines = csv_answer.text.splitlines()
    header = lines[0].split(",")
    assert header[:3] == ["timestamp", "value", "price"]
    assert {"psr_type", "out_area_code", "contract_type", "flow_direction"} <= set(header)
    assert len(lines) - 1 == len(rows)


async def test_horizons_and_areas_in_one_table_and_filters_on_every_read(
    live_api: LiveApi,
) -> None:
    for path in NTC:
        await _store(live_api, path)
    await _store(live_api, FLOWS)
    base = [("data_type", "net_transfer_capacity"), ("area_code", "NL"), ("out_area", "BE")]
    table = await live_api.http.get(
        "/api/v1/energy-data", params=[*base, ("layout", "table"), *OCTOBER.items()]
    )
    assert table.status_code == 200, table.text
    body = table.json()
    assert {s["contract_type"] for s in body["series"]} == {"A01", "A02"}
    for path, contract in zip(NTC, ("A01", "A02"), strict=True):
        got = sorted(
            (_stamp(r["timestamp"]), r["value"])
            for r in body["rows"]
            if r["contract_type"] == contract
        )
        expected = [(t, v) for t, v in _expected(path) if OCTOBER["start_time"] <= t]
        assert got == expected, contract

    coverage = await live_api.http.get(
        "/api/v1/coverage",
        params=[("area_code", "NL"), ("data_type", "net_transfer_capacity"), *OCTOBER.items()],
    )
    assert coverage.status_code == 200, coverage.text
    horizons = {s["contract_type"]: s["percent_complete"] for s in coverage.json()["series"]}
    assert horizons == {"A01": 14.286, "A02": 100.0}  # day-ahead: one day of the week

    week = [*base, ("contract_type", "week_ahead"), *OCTOBER.items()]
    one = await live_api.http.get("/api/v1/energy-data", params=week)
    assert one.status_code == 200, one.text
    assert one.json()["series"]["contract_type"] == "A02"
    assert [p["value"] for p in one.json()["points"]] == [v for _, v in _expected(NTC[1])]

    latest = await live_api.http.get(
        "/api/v1/energy-data/latest", params=[*base, ("contract_type", "A02")]
    )
    assert latest.status_code == 200, latest.text
    assert latest.json()["series"]["contract_type"] == "A02"
    assert _stamp(latest.json()["timestamp"]) == "2020-10-17T22:00:00Z"
    day_latest = await live_api.http.get(
        "/api/v1/energy-data/latest", params=[*base, ("contract_type", "A01")]
    )
    assert _stamp(day_latest.json()["timestamp"]) == "2020-10-17T21:00:00Z"

    aggregated = await live_api.http.get(
        "/api/v1/energy-data/aggregated",
        params=[*base, ("contract_type", "A02"), ("interval", "week"), *OCTOBER.items()],
    )
    assert aggregated.status_code == 200, aggregated.text
    assert aggregated.json()["series"]["contract_type"] == "A02"
    (bucket,) = aggregated.json()["buckets"]
    values = [v for _, v in _expected(NTC[1])]
    assert bucket["count"] == len(values)
    assert bucket["mean"] == sum(values) / len(values)

    versions = await live_api.http.get(
        "/api/v1/energy-data/versions",
        params=[*base, ("contract_type", "A02"), ("timestamp", "2020-10-12T10:00:00Z")],
    )
    assert versions.status_code == 200, versions.text
    assert versions.json()["series"]["contract_type"] == "A02"
    assert versions.json()["versions"][0]["value"] == values[0]

    # several areas and data types at once: flows NL←DE_LU beside the capacities
    mixed = [
        ("area_code", "NL"),
        ("data_type", "net_transfer_capacity"),
        ("data_type", "physical_flows"),
        ("out_area", "BE"),
        ("out_area", "DE_LU"),
        ("start_time", "2020-10-11T22:00:00Z"),
        ("end_time", "2024-09-03T00:00:00Z"),
        ("limit", "10000"),
    ]
    both = await live_api.http.get("/api/v1/energy-data", params=mixed)
    assert both.status_code == 200, both.text
    kinds = {(r["data_type"], r["out_area_code"]) for r in both.json()["rows"]}
    assert kinds == {
        ("net_transfer_capacity", "10YBE----------2"),
        ("physical_flows", "10Y1001A1001A82H"),
    }

    for bad, word in (("contract_type", "A07"), ("direction", "sideways")):
        wrong = await live_api.http.get("/api/v1/energy-data/latest", params=[*base, (bad, word)])
        assert wrong.status_code == 400, wrong.text
        assert word in wrong.json()["detail"]
    missing = await live_api.http.get(
        "/api/v1/energy-data/latest", params=[("data_type", "physical_flows"), ("area_code", "NL")]
    )
    assert missing.status_code == 400
    assert "out_area" in missing.json()["detail"]
