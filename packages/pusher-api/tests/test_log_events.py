"""Every log event of the pusher is dotted (`area.what_happened`), as in the energy service."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pusher_api

LEVELS = {"debug", "info", "warning", "error", "exception", "critical"}
DOTTED = re.compile(r"[a-z_]+(\.[a-z_]+)+")


def _events() -> list[tuple[str, int, str]]:
    found = []
    for path in sorted(Path(pusher_api.__file__).parent.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in LEVELS
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "log"
                and node.args
            ):
                continue
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                event = first.value
            elif isinstance(first, ast.JoinedStr):  # f"connector.command_{status}"
                event = "".join(
                    part.value if isinstance(part, ast.Constant) else "x" for part in first.values
                )
            else:
                event = ast.unparse(first)
            found.append((path.name, node.lineno, event))
    return found


def test_every_log_event_is_dotted() -> None:
    events = _events()
    assert len(events) >= 30
    undotted = [event for event in events if not DOTTED.fullmatch(event[2])]
    assert undotted == []
