"""`entsoe fetch` against the fake platform: data on stdout, one clear line on mistakes."""

import csv
import io
import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from entsoe_client.cli import app
from entsoe_client.testing import FakePlatform, value_at
from typer.testing import CliRunner

from .conftest import TOKEN

runner = CliRunner()


@pytest.fixture
def env(platform: FakePlatform) -> dict[str, str]:
    return {"ENTSOE__API_TOKEN": TOKEN, "ENTSOE__BASE_URL": platform.url}


def run(env: dict[str, str], *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["fetch", *args], env=env)


def test_csv_to_stdout_with_naive_dates_as_utc(env: dict[str, str], platform: FakePlatform) -> None:
    result = run(
        env, "-d", "actual_load", "-a", "DE_LU", "--start", "2024-03-01", "--end", "2024-03-03"
    )
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 48
    assert rows[0]["timestamp"].startswith("2024-03-01T00:00:00")
    assert rows[0]["timestamp"].endswith("+00:00")
    assert float(rows[1]["value"]) == value_at(datetime.fromisoformat(rows[1]["timestamp"]))
    assert platform.requests[0].params["periodStart"] == "202403010000"
    assert "48 points in 1 series" in result.stderr


def test_json_to_a_file_over_several_chunks(
    env: dict[str, str], platform: FakePlatform, tmp_path: Path
) -> None:
    target = tmp_path / "generation.json"
    result = run(
        env,
        "-d",
        "generation_per_unit",
        "-a",
        "FR",
        "--start",
        "2024-03-01T00:00+01:00",
        "--end",
        "2024-03-04T00:00+01:00",
        "--format",
        "json",
        "--output",
        str(target),
        "--psr-type",
        "B16",
    )
    assert result.exit_code == 0, result.stderr
    assert len(platform.requests) == 3  # generation per unit: one day per request
    data = json.loads(target.read_text())
    text = json.dumps(data)
    assert "B16" in text
    assert result.stdout == ""
    assert "72 points in 3 series" in result.stderr
    assert "3 chunk(s)" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["-d", "actual_load", "-a", "DE_LX", "--start", "2024-01-01", "--end", "2024-01-02"],
            "Unknown area 'DE_LX'",
        ),
        (
            ["-d", "load", "-a", "DE_LU", "--start", "2024-01-01", "--end", "2024-01-02"],
            "Choose one of: actual_load",
        ),
        (
            ["-d", "actual_load", "-a", "DE_LU", "--start", "2024-01-02", "--end", "2024-01-01"],
            "must be before end",
        ),
        (
            ["-d", "actual_load", "-a", "DE_LU", "--start", "yesterday", "--end", "2024-01-01"],
            "not an ISO 8601 date",
        ),
        (
            [
                "-d",
                "day_ahead_prices",
                "-a",
                "DE_TENNET",
                "--start",
                "2024-01-01",
                "--end",
                "2024-01-02",
            ],
            "needs a bidding zone",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    env: dict[str, str], platform: FakePlatform, args: list[str], message: str
) -> None:
    result = run(env, *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert platform.requests == []


def test_unknown_area_suggests_close_names(env: dict[str, str]) -> None:
    result = run(
        env, "-d", "actual_load", "-a", "DE_LX", "--start", "2024-01-01", "--end", "2024-01-02"
    )
    assert "DE_LU" in result.stderr


def test_wrong_token_says_so_and_exits_1(env: dict[str, str], platform: FakePlatform) -> None:
    result = run(
        {**env, "ENTSOE__API_TOKEN": "nope"},
        "-d",
        "actual_load",
        "-a",
        "NL",
        "--start",
        "2024-01-01",
        "--end",
        "2024-01-02",
    )
    assert result.exit_code == 1
    assert "ENTSOE__API_TOKEN" in result.stderr
    assert "nope" not in result.stderr
    assert len(platform.requests) == 1


def test_missing_token_exits_2(platform: FakePlatform) -> None:
    result = runner.invoke(
        app,
        [
            "fetch",
            "-d",
            "actual_load",
            "-a",
            "NL",
            "--start",
            "2024-01-01",
            "--end",
            "2024-01-02",
            "--base-url",
            platform.url,
        ],
        env={"ENTSOE__API_TOKEN": "", "ENTSOE_API_TOKEN": ""},
    )
    assert result.exit_code == 2
    assert "No security token" in result.stderr


def test_the_installed_command_runs_without_traceback(platform: FakePlatform) -> None:
    script = Path(sys.executable).with_name("entsoe")
    completed = subprocess.run(
        [
            str(script),
            "fetch",
            "-d",
            "actual_load",
            "-a",
            "NL",
            "--start",
            "2024-01-01",
            "--end",
            "2024-01-01T03:00",
            "--token",
            TOKEN,
            "--base-url",
            platform.url,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert len(completed.stdout.strip().splitlines()) == 4  # header and three hours
    bad = subprocess.run(
        [
            str(script),
            "fetch",
            "-d",
            "actual_load",
            "-a",
            "NL",
            "--start",
            "2024-01-02",
            "--end",
            "2024-01-01",
            "--token",
            TOKEN,
            "--base-url",
            platform.url,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
    assert TOKEN not in bad.stderr + completed.stderr


def test_a_horizon_is_asked_for_and_stamped_on_series_that_state_none(
    env: dict[str, str], platform: FakePlatform
) -> None:
    """Week-ahead capacities: the request carries contract_MarketAgreement.Type A02; the answer
    (as the platform's A61 answers) states no contract type, so the client stamps the one asked
    for; a horizon the type does not have is one line, exit 2, nothing sent."""
    args = ["-d", "net_transfer_capacity", "-a", "FR", "--out-area", "DE_LU"]
    args += ["--start", "2024-03-01", "--end", "2024-03-02"]
    result = run(env, *args, "--contract-type", "week_ahead")
    assert result.exit_code == 0, result.stderr
    (request,) = platform.requests
    assert request.params["contract_MarketAgreement.Type"] == "A02"
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows
    assert {r["contract_type"] for r in rows} == {"A02"}
    refused = run(env, *args, "--contract-type", "A07")
    assert refused.exit_code == 2
    assert "A02 (week_ahead)" in refused.stderr
    assert len(platform.requests) == 1
