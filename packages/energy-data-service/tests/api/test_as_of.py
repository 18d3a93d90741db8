"""As-of reads end to end: collect, the platform revises, collect again; export and the API
read either state, ``/versions`` lists both. On SQLite and PostgreSQL.

The stand-in serves the revision as the platform does: the same range answered again with a
new document whose values differ for some hours (revision number unchanged, a later
createdDateTime), scripted through ``FakePlatform.enqueue``.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from energy_data_service.cli import app
from entsoe_client.testing import FakePlatform, Reply, generate_document, value_at
from typer.testing import CliRunner

from .conftest import LiveApi, api_settings, serve

START = datetime(2024, 3, 30, 23, tzinfo=UTC)  # 2024-03-31 00:00 Europe/Berlin (23 hours)
END = datetime(2024, 3, 31, 22, tzinfo=UTC)
WINDOW = ("--start", START.isoformat(), "--end", END.isoformat())
REVISED_HOURS = {3, 7, 8}  # hours of the day whose value the platform corrects
runner = CliRunner()


def revised(start: datetime) -> float:
    hour = int((start - START) / timedelta(hours=1))
    return value_at(start) + 1_000.0 if hour in REVISED_HOURS else value_at(start)


def revised_document(platform: FakePlatform) -> bytes:
    """The platform's answer to the last request, with the corrected hours' values changed."""
    params = platform.requests[-1].params
    body = generate_document(params, mrid="corrected").decode()
    position = iter(range(1, 10_000))

    def correct(match: re.Match[str]) -> str:
        start = START + timedelta(hours=next(position) - 1)
        return f"<quantity>{revised(start)!r}</quantity>"

    return re.sub(r"<quantity>[^<]*</quantity>", correct, body).encode()


def cli(env: dict[str, str], *args: str) -> str:
    result = runner.invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def exported(env: dict[str, str], target: Path, *extra: str) -> dict[str, float]:
    cli(
        env,
        "export",
        "--area",
        "DE_LU",
        "--data-type",
        "actual_load",
        *WINDOW,
        "--output",
        str(target),
        *extra,
    )
    rows = csv.DictReader(io.StringIO(target.read_text()))
    return {row["timestamp"]: float(row["value"]) for row in rows}


def between_fetches() -> datetime:
    """An instant after everything stored so far and a whole second before what comes next
    (as-of reads resolve to whole seconds)."""
    time.sleep(1.05)
    moment = datetime.now(UTC)
    time.sleep(1.05)
    return moment


async def test_export_and_api_read_the_values_known_before_a_revision(
    cli_env: dict[str, str], fake_platform: FakePlatform, database_url: str, tmp_path: Path
) -> None:
    collect = ("collect", "--area", "DE_LU", "--data-type", "actual_load", *WINDOW)
    await asyncio.to_thread(cli, cli_env, *collect)
    known_then = await asyncio.to_thread(between_fetches)
    fake_platform.enqueue(Reply.xml(revised_document(fake_platform)))
    await asyncio.to_thread(cli, cli_env, *collect)
    assert fake_platform.requests[-1].params["periodStart"] == "202403302300"

    first = {
        (START + timedelta(hours=h)).isoformat(): value_at(START + timedelta(hours=h))
        for h in range(23)
    }
    second = {ts: revised(datetime.fromisoformat(ts)) for ts in first}
    assert first != second
    as_of = await asyncio.to_thread(
        exported, cli_env, tmp_path / "then.csv", "--as-of", known_then.isoformat()
    )
    now = await asyncio.to_thread(exported, cli_env, tmp_path / "now.csv")
    assert as_of == first
    assert now == second

    async with serve(api_settings(database_url)) as api:
        params = {
            "area_code": "DE_LU",
            "data_type": "actual_load",
            "start_time": START.isoformat(),
            "end_time": END.isoformat(),
        }
        then = await api_points(api, {**params, "as_of": known_then.isoformat()})
        current = await api_points(api, params)
        assert then == first
        assert current == second

        answer = await api.http.get(
            "/api/v1/energy-data/latest",
            params={**params, "as_of": known_then.isoformat()},
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["value"] == first[(END - timedelta(hours=1)).isoformat()]

        aggregated = await api.http.get(
            "/api/v1/energy-data/aggregated",
            params={**params, "interval": "day", "as_of": known_then.isoformat()},
        )
        (bucket,) = aggregated.json()["buckets"]
        assert bucket["mean"] == sum(first.values()) / len(first)

        hour = START + timedelta(hours=7, minutes=30)
        answer = await api.http.get(
            "/api/v1/energy-data/versions",
            params={
                "area_code": "DE_LU",
                "data_type": "actual_load",
                "timestamp": hour.isoformat(),
            },
        )
        assert answer.status_code == 200, answer.text
        old, new = answer.json()["versions"]
        assert old["value"] == value_at(START + timedelta(hours=7))
        assert new["value"] == old["value"] + 1_000.0
        assert old["known_until"] == new["known_from"]
        assert new["known_until"] is None
        assert old["known_from"] <= known_then.isoformat() < new["known_from"]
        assert new["document_mrid"] == "corrected"
        unrevised = await api.http.get(
            "/api/v1/energy-data/versions",
            params={
                "area_code": "DE_LU",
                "data_type": "actual_load",
                "timestamp": START.isoformat(),
            },
        )
        assert len(unrevised.json()["versions"]) == 1  # an unchanged value has one version


async def api_points(api: LiveApi, params: dict[str, str]) -> dict[str, float]:
    answer = await api.http.get("/api/v1/energy-data", params=params)
    assert answer.status_code == 200, answer.text
    return {p["timestamp"]: p["value"] for p in answer.json()["points"]}


async def test_bad_as_of_is_a_400_that_says_why(live_api: LiveApi) -> None:
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    cases = {
        "yesterday": "not an ISO 8601 timestamp",
        "2024-03-01T12:00:00": "no UTC offset",
        future: "lies in the future",
    }
    for path in ("", "/latest", "/aggregated"):
        for value, message in cases.items():
            answer = await live_api.http.get(
                f"/api/v1/energy-data{path}",
                params={"area_code": "DE_LU", "data_type": "actual_load", "as_of": value},
            )
            assert answer.status_code == 400, (path, value, answer.text)
            assert message in answer.json()["detail"]
    before_anything = await live_api.http.get(
        "/api/v1/energy-data",
        params={"area_code": "DE_LU", "data_type": "actual_load", "as_of": "2001-01-01T00:00Z"},
    )
    assert before_anything.status_code == 200
    assert before_anything.json()["points"] == []


def test_bad_as_of_on_export_is_one_line(cli_env: dict[str, str]) -> None:
    result = runner.invoke(
        app,
        [
            "export",
            "--area",
            "DE_LU",
            "--data-type",
            "actual_load",
            *WINDOW,
            "--as-of",
            "2024-03-01",
        ],
        env=cli_env,
    )
    assert result.exit_code == 2
    assert "no UTC offset" in result.output
    assert "Traceback" not in result.output


OLDER = (
    "inceptive-tech__ENTSOEDataRetrieval/src__test__resources__tech__inceptive__ai4czc__"
    "entsoedataretrieval__csv__transformers__LoadExample2.xml"
)  # CZ actual load 2023-03-03…06, revision 1, created 2023-06-05: whole megawatts
NEWER = "EuropeanPowerSystems__ENTSOE.jl/test__cassettes__load61_a_actual_total_load.yml.xml"
# the same hours, revision 1 again, created 2026-05-07: corrected in place to two decimals
SAMPLES = Path(__file__).resolve().parents[4] / "testdata" / "entsoe-samples"
CZ_WINDOW = ("--start", "2023-03-03T00:00Z", "--end", "2023-03-06T00:00Z")


def cz_export(env: dict[str, str], target: Path, *extra: str) -> dict[str, float]:
    cli(
        env,
        "export",
        "--area",
        "CZ",
        "--data-type",
        "actual_load",
        *CZ_WINDOW,
        "--output",
        str(target),
        *extra,
    )
    return {
        row["timestamp"]: float(row["value"])
        for row in csv.DictReader(io.StringIO(target.read_text()))
    }


def test_a_real_in_place_correction_is_kept_as_a_version(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    cli(cli_env, "import", str(SAMPLES / OLDER))
    between = between_fetches()
    cli(cli_env, "import", str(SAMPLES / NEWER))
    then = cz_export(cli_env, tmp_path / "then.csv", "--as-of", between.isoformat())
    now = cz_export(cli_env, tmp_path / "now.csv")
    assert len(then) == len(now) == 72
    assert then["2023-03-03T00:00:00+00:00"] == 7146.0
    assert now["2023-03-03T00:00:00+00:00"] == 7146.17
    assert sum(then[ts] != now[ts] for ts in now) == 71

    # Imported again in the other order, the older document (created 2023) never wins.
    cli(cli_env, "import", str(SAMPLES / OLDER))
    assert cz_export(cli_env, tmp_path / "again.csv") == now
