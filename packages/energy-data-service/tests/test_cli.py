"""`energy-data` commands: the happy path on both backends, and every kind of bad input."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from energy_data_service.cli import app
from energy_data_service.container import Container
from energy_data_service.settings import Settings
from entsoe_client.testing import FakePlatform, value_at
from typer.testing import CliRunner

SAMPLES = Path(__file__).resolve().parents[3] / "testdata" / "entsoe-samples"
runner = CliRunner()


def invoke(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env=env)
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    return result.exit_code, result.output


def point_count(settings: Settings) -> int:
    async def count() -> int:
        async with Container(settings) as container:
            return await container.points.count()

    return asyncio.run(count())


@pytest.fixture
def sqlite_env(tmp_path: Path, fake_platform: FakePlatform) -> dict[str, str]:
    """CLI environment on a fresh SQLite file (bad-input tests need no second backend)."""
    return {
        "DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
        "ENTSOE__API_TOKEN": "test-token",
        "ENTSOE__BASE_URL": fake_platform.url,
        "ENTSOE__REQUESTS_PER_MINUTE": "",
        "COLUMNS": "200",
    }


def test_collect_export_status_round_trip(
    cli_env: dict[str, str], fake_platform: FakePlatform, tmp_path: Path
) -> None:
    fake_platform.resolution = "PT15M"
    # the local DST day in Berlin: 23 hours, 92 quarter-hours
    window = ("--start", "2024-03-31T00:00+01:00", "--end", "2024-04-01T00:00+02:00")
    code, output = invoke(
        cli_env, "collect", "--area", "DE_LU", "--data-type", "actual_load", *window
    )
    assert code == 0, output
    assert "92" in output

    target = tmp_path / "load.csv"
    code, output = invoke(
        cli_env,
        "export",
        "--area",
        "10Y1001A1001A82H",
        "--data-type",
        "actual_load",
        *window,
        "--output",
        str(target),
    )
    assert code == 0, output
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert len(rows) == 92
    assert rows[0]["timestamp"] == "2024-03-30T23:00:00+00:00"
    assert rows[0]["area"] == "10Y1001A1001A82H"
    assert rows[0]["end"] == "2024-03-30T23:15:00+00:00"
    assert rows[0]["unit"] == "MAW"
    assert all(float(r["value"]) == value_at(datetime.fromisoformat(r["timestamp"])) for r in rows)

    target = tmp_path / "load.parquet"
    code, output = invoke(
        cli_env,
        "export",
        "--area",
        "DE_LU",
        "--data-type",
        "actual_load",
        *window,
        "--format",
        "parquet",
        "--output",
        str(target),
        "--batch-size",
        "100",
    )
    assert code == 0, output
    table = pq.read_table(target)
    assert table.num_rows == 92
    assert pq.ParquetFile(target).metadata.num_row_groups == 1

    target = tmp_path / "load.json"
    code, output = invoke(
        cli_env,
        "export",
        "--area",
        "DE_LU",
        "--data-type",
        "actual_load",
        *window,
        "--format",
        "json",
        "--output",
        str(target),
    )
    assert code == 0, output
    records = json.loads(target.read_text())
    assert len(records) == 92
    assert records[-1]["timestamp"] == "2024-03-31T21:45:00+00:00"

    code, output = invoke(cli_env, "status")
    assert code == 0, output
    assert "DE_LU" in output
    assert "100.00%" in output


def test_import_infers_area_and_type_and_reports_bad_files(
    sqlite_env: dict[str, str], tmp_path: Path
) -> None:
    good = SAMPLES / (
        "JaccoR__hass-entso-e/custom_components__entsoe__test__datasets__DE_60M_15M_overlap.xml"
    )
    bad = tmp_path / "notes.xml"
    bad.write_text("this is not XML")
    code, output = invoke(sqlite_env, "import", str(good), str(bad))
    assert code == 1
    assert "DE_LU" in output
    assert "day_ahead_prices" in output
    assert "240" in output
    assert "notes.xml" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["collect", "--area", "DE_LUX", "--data-type", "actual_load"], "DE_LU"),
        (["collect", "--area", "DE_LU", "--data-type", "actual_lod"], "actual_load"),
        (
            ["collect", "--area", "DE_LU", "--start", "2024-02-01", "--end", "2024-01-01"],
            "must be before",
        ),
        (["collect", "--area", "DE_LU", "--start", "yesterday"], "not an ISO 8601"),
        (["backfill", "--start", "2024-01-01", "--end", "2024-01-01"], "must be before"),
        (
            [
                "export",
                "--area",
                "DE_LU",
                "--data-type",
                "actual_load",
                "--start",
                "2024-01-01",
                "--end",
                "2024-01-02",
                "--format",
                "parquet",
            ],
            "--output",
        ),
    ],
)
def test_bad_input_is_a_clear_error(
    sqlite_env: dict[str, str], args: list[str], message: str
) -> None:
    code, output = invoke(sqlite_env, *args)
    assert code == 2, output
    assert message in output
    assert "Traceback" not in output


@pytest.mark.parametrize(
    ("variable", "value"),
    [("DATABASE__URL", "mysql://localhost/energy"), ("COLLECTION__AREAS", "DE_LU,XX")],
)
def test_invalid_settings_name_the_variable(
    sqlite_env: dict[str, str], variable: str, value: str
) -> None:
    code, output = invoke({**sqlite_env, variable: value}, "status")
    assert code == 2, output
    assert variable in output


def test_wrong_token_says_so_and_stores_nothing(sqlite_env: dict[str, str]) -> None:
    env = {**sqlite_env, "ENTSOE__API_TOKEN": "not-the-token"}
    code, output = invoke(
        env,
        "collect",
        "--area",
        "FR",
        "--data-type",
        "actual_load",
        "--start",
        "2024-01-01",
        "--end",
        "2024-01-02",
    )
    assert code == 3, output
    assert "security token" in output
    assert "Nothing was stored" in output
    assert "401" in output
    settings = Settings(database={"url": sqlite_env["DATABASE__URL"]})
    assert point_count(settings) == 0


def test_help_says_dates_are_utc_and_db_upgrade_works(sqlite_env: dict[str, str]) -> None:
    code, output = invoke(sqlite_env, "collect", "--help")
    assert code == 0
    assert "UTC" in output
    code, output = invoke(sqlite_env, "db", "upgrade")
    assert code == 0, output
    assert "up to date" in output


def test_backfill_resume_skips_stored_chunks(
    sqlite_env: dict[str, str], fake_platform: FakePlatform
) -> None:
    args = ("backfill", "--area", "NL", "--data-type", "actual_load")
    window = ("--start", "2024-01-01", "--end", "2024-03-01")
    code, output = invoke(sqlite_env, *args, *window)
    assert code == 0, output
    assert "Backfill job 1: done" in output
    fake_platform.clear()
    code, output = invoke(sqlite_env, *args, *window, "--resume")
    assert code == 0, output
    assert fake_platform.requests == []
    assert "100.0%" in output


def test_wrong_token_while_filling_gaps_of_several_areas(sqlite_env: dict[str, str]) -> None:
    env = {**sqlite_env, "ENTSOE__API_TOKEN": "not-the-token"}
    code, output = invoke(env, "collect", "--area", "FR", "--area", "NL", "--area", "DE_LU")
    assert code == 3, output
    assert "refused the security token (401)" in output
