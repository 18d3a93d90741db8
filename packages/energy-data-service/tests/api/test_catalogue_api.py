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
