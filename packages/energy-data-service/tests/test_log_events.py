"""Every log event of the service is named one way: ``area.what_happened`` (dotted)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import energy_data_service

PACKAGE = Path(energy_data_service.__file__).parent
LEVELS = {"debug", "info", "warning", "error", "exception", "critical"}
DOTTED = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")


def _events() -> list[tuple[str, str]]:
    """(where, event) of every ``log.<level>("event", …)`` call in the package."""
    found = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in LEVELS
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "log"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.append((f"{path.relative_to(PACKAGE)}:{node.lineno}", node.args[0].value))
    return found


def test_every_log_event_is_dotted() -> None:
    events = _events()
    assert len(events) >= 30
    assert [(where, event) for where, event in events if not DOTTED.match(event)] == []
