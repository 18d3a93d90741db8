"""The CLI's failures outside the user's input: each is one line and an exit code, no traceback.

A database that is down and an `--output` that cannot be written each give one line, and
platform text with ``[/x]`` in it is printed as text, not read as rich markup.
"""

from __future__ import annotations

import socket
from pathlib import Path

from energy_data_service.cli import app
from energy_data_service.cli._common import fail
from typer.testing import CliRunner

runner = CliRunner()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_database_that_is_down_is_one_line(tmp_path: Path) -> None:
    env = {
        "DATABASE__URL": f"postgresql+asyncpg://postgres@127.0.0.1:{_closed_port()}/energy",
        "COLUMNS": "200",
    }
    result = runner.invoke(app, ["status"], env=env)
    assert result.exit_code == 1, result.output
    assert "the database is unreachable" in result.output
    assert "DATABASE__URL" in result.output
    assert "Traceback" not in result.output


def test_an_unwritable_output_is_one_line(tmp_path: Path) -> None:
    env = {"DATABASE__URL": f"sqlite+aiosqlite:///{tmp_path / 'e.db'}", "COLUMNS": "200"}
    target = tmp_path / "missing-dir" / "out.csv"
    result = runner.invoke(
        app,
        [
            "export",
            "--area",
            "DE_LU",
            "--data-type",
            "actual_load",
            "--start",
            "2026-01-01",
            "--end",
            "2026-01-02",
            "--output",
            str(target),
        ],
        env=env,
    )
    assert result.exit_code == 1, result.output
    assert f"cannot use {target}" in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_an_error_text_with_markup_is_printed_as_is(capsys: object) -> None:
    exit_ = fail("platform said: [/x] and [bold]")
    assert exit_.exit_code == 2
