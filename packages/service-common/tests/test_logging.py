"""One logging set-up for both services: JSON lines or text on stderr, libraries through it."""

from __future__ import annotations

import json
import logging

import pytest
import structlog
from service_common import configure_logging


@pytest.fixture(autouse=True)
def _restore_logging() -> object:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers, root.level = handlers, level
    structlog.reset_defaults()


def test_json_lines_carry_event_level_logger_and_utc_time(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(level="info", log_format="json")
    structlog.get_logger("service.part").info("backfill.chunk_failed", chunk=3)
    logging.getLogger("uvicorn.error").warning("port in use")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert lines[0]["event"] == "backfill.chunk_failed"
    assert lines[0]["chunk"] == 3
    assert lines[0]["level"] == "info"
    assert lines[0]["logger"] == "service.part"
    assert lines[0]["timestamp"].endswith("Z")
    assert lines[1] == {**lines[1], "event": "port in use", "logger": "uvicorn.error"}
    assert len(lines) == 2


def test_the_level_hides_lower_records_and_quieter_libraries_stay_quiet(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(level="WARNING", log_format="text", quieter={"chatty": logging.CRITICAL})
    structlog.get_logger("ours").info("hidden")
    structlog.get_logger("ours").warning("shown")
    logging.getLogger("chatty").error("reconnect failed")
    err = capsys.readouterr().err
    assert "shown" in err
    assert "hidden" not in err
    assert "reconnect failed" not in err
    assert logging.getLogger("chatty").level == logging.CRITICAL


def test_a_quieter_floor_never_shows_what_the_root_level_hides() -> None:
    configure_logging(level="ERROR", log_format="text", quieter={"apscheduler": logging.WARNING})
    assert logging.getLogger("apscheduler").level == logging.ERROR


def test_level_and_format_are_keywords_so_they_cannot_be_swapped() -> None:
    with pytest.raises(TypeError):
        configure_logging("json", "INFO")  # type: ignore[misc]
