"""`entsoe parse FILE`: every point on stdout, one clear line on stderr for anything else."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))

from _entsoe_samples import (
    SAMPLES_DIR,
    acknowledgement_xml,
    document_xml,
    load_document,
    period_xml,
    series_xml,
)
from entsoe_client import COLUMNS
from entsoe_client.cli import app

runner = CliRunner()

START, END = datetime(2024, 10, 26, 22, tzinfo=UTC), datetime(2024, 10, 27, 23, tzinfo=UTC)


@pytest.fixture
def load_file(tmp_path: Path) -> Path:
    path = tmp_path / "load.xml"
    path.write_bytes(load_document(START, END, [float(i) for i in range(100)]))
    return path


@pytest.fixture
def a03_file(tmp_path: Path) -> Path:
    start, end = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 2, tzinfo=UTC)
    period = period_xml(start, end, "PT60M", {1: 1.5, 5: 2.5})
    path = tmp_path / "a03.xml"
    path.write_bytes(document_xml([series_xml([period], curve_type="A03")], start=start, end=end))
    return path


def parse(*args: str, stdin: bytes | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["parse", *args], input=stdin)


def test_csv_has_every_point(load_file: Path) -> None:
    result = parse(str(load_file))
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 100  # the autumn DST day
    assert list(rows[0]) == list(COLUMNS)
    assert rows[0]["timestamp"] == "2024-10-26T22:00:00+00:00"
    assert rows[-1]["end"] == "2024-10-27T23:00:00+00:00"
    assert [float(r["value"]) for r in rows] == [float(i) for i in range(100)]
    assert result.stderr == ""


def test_a03_is_expanded(a03_file: Path) -> None:
    result = parse(str(a03_file))
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [float(r["value"]) for r in rows] == [1.5] * 4 + [2.5] * 20
    assert [int(r["position"]) for r in rows] == list(range(1, 25))


def test_json(load_file: Path) -> None:
    result = parse(str(load_file), "--format", "json")
    assert result.exit_code == 0, result.stderr
    records = json.loads(result.stdout)
    assert len(records) == 100
    assert records[0]["timestamp"] == "2024-10-26T22:00:00+00:00"
    assert records[0]["value"] == 0.0


def test_output_file(load_file: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    result = parse(str(load_file), "-o", str(target))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert len(target.read_text().splitlines()) == 101


def test_stdin(load_file: Path) -> None:
    result = parse("-", stdin=load_file.read_bytes())
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout.splitlines()) == 101


def test_zip_answer(load_file: Path, a03_file: Path, tmp_path: Path) -> None:
    archive = tmp_path / "answer.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(load_file, "001.xml")
        zipped.write(a03_file, "002.xml")
    result = parse(str(archive))
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout.splitlines()) == 1 + 100 + 24


def test_no_data_acknowledgement_is_an_empty_result(tmp_path: Path) -> None:
    path = tmp_path / "ack.xml"
    path.write_bytes(acknowledgement_xml("No matching data found for Data item ACTUAL_LOAD"))
    result = parse(str(path))
    assert result.exit_code == 0
    assert result.stdout == ",".join(COLUMNS) + "\n"  # the header, no rows
    assert result.stderr == "no data: No matching data found for Data item ACTUAL_LOAD\n"
    result = parse(str(path), "-f", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []


def test_refusing_acknowledgement_fails_with_its_reason(tmp_path: Path) -> None:
    path = tmp_path / "ack.xml"
    path.write_bytes(acknowledgement_xml("Mandatory parameter periodStart is missing"))
    result = parse(str(path))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "Mandatory parameter periodStart is missing" in result.stderr
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"hello world", "malformed XML"),
        (b"", "empty answer"),
        (b"<html><body>oops</body></html>", "not an ENTSO-E document"),
        (b"<GL_MarketDocument><TimeSeries>", "malformed XML"),
        (b"PK\x03\x04 truncated", "ZIP"),
        (b'<?xml version="1.0"?><Configuration_MarketDocument/>', "is not supported"),
    ],
)
def test_not_a_document_is_one_line_and_exit_1(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "file.xml"
    path.write_bytes(content)
    result = parse(str(path))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: {path}: ")
    assert message in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_missing_file_and_directory(tmp_path: Path) -> None:
    for target, message in [(tmp_path / "nope.xml", "No such file"), (tmp_path, "directory")]:
        result = parse(str(target))
        assert result.exit_code == 1
        assert message in result.stderr
        assert len(result.stderr.splitlines()) == 1


def test_real_process_exit_codes(load_file: Path, tmp_path: Path) -> None:
    """The installed entry point, in a real process: no traceback, exit codes as documented."""
    command = [sys.executable, "-c", "from entsoe_client.cli import app; app()", "parse"]
    ok = subprocess.run([*command, str(load_file)], capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0
    assert len(ok.stdout.splitlines()) == 101
    bad = tmp_path / "bad.xml"
    bad.write_text("not xml")
    failed = subprocess.run([*command, str(bad)], capture_output=True, text=True, timeout=60)
    assert failed.returncode == 1
    assert failed.stdout == ""
    assert failed.stderr.count("\n") == 1
    assert "Traceback" not in failed.stderr


@pytest.mark.skipif(not SAMPLES_DIR.exists(), reason="no samples")
def test_real_samples() -> None:
    prices = SAMPLES_DIR / "vegai__entsoe/tests__fixtures__day_ahead_prices_fi.xml"
    result = parse(str(prices))
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 192  # 162 Points, A03 expanded to two full PT15M days
    assert {r["resolution"] for r in rows} == {"PT15M"}
    outages = SAMPLES_DIR / "EnergieID__entsoe-py/query_unavailability_transmission.zip"
    result = parse(str(outages), "-f", "json")
    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)) == 11


@pytest.mark.skipif(not SAMPLES_DIR.exists(), reason="no samples")
def test_the_23_hour_day_ends_at_its_periods_end() -> None:
    """27 March 2016 in Belgium lasted 23 hours: the P1D point ends at 22:00Z, not 23:00Z."""
    week = SAMPLES_DIR / "PJHerrijgers__entsoeAPI/data__week_ahead_total_load.txt"
    result = parse(str(week))
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    day = [r for r in rows if r["timestamp"] == "2016-03-26T23:00:00+00:00"]
    assert day
    assert {r["end"] for r in day} == {"2016-03-27T22:00:00+00:00"}


@pytest.mark.skipif(not SAMPLES_DIR.exists(), reason="no samples")
def test_a_position_beyond_its_period_is_a_warning_on_stderr() -> None:
    edited = (
        SAMPLES_DIR
        / "JaccoR__hass-entso-e/custom_components__entsoe__test__datasets__BE_15M_avg.xml"
    )
    result = parse(str(edited))
    assert result.exit_code == 0, result.stderr
    assert "warning:" in result.stderr
    assert "1 Point(s) at positions beyond the Period's last position 2 dropped" in result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert max(r["end"] for r in rows) == "2024-10-06T05:00:00+00:00"


def test_price_column_beside_value(tmp_path: Path) -> None:
    start, end = datetime(2024, 5, 1, 22, tzinfo=UTC), datetime(2024, 5, 1, 23, tzinfo=UTC)
    period = period_xml(start, end, "PT60M", [500.0]).replace(
        "</quantity>", "</quantity><price.amount>3.25</price.amount>"
    )
    path = tmp_path / "a25.xml"
    path.write_bytes(
        document_xml([series_xml([period])], start=start, end=end, document_type="A25")
    )
    (row,) = csv.DictReader(io.StringIO(parse(str(path)).stdout))
    assert (row["value"], row["price"]) == ("500.0", "3.25")
    (item,) = json.loads(parse(str(path), "-f", "json").stdout)
    assert (item["value"], item["price"]) == (500.0, 3.25)
