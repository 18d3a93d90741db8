"""Every log call of the client names its event in the dotted style the services use.

``range.halved``, ``request.answered``, ``rate_limit.paused``: the event comes first, then the
human text, so a log search for one kind of event needs no guessing at sentences.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import entsoe_client

SOURCE = Path(entsoe_client.__file__).parent
LEVELS = {"debug", "info", "warning", "error", "exception", "critical"}
EVENT = re.compile(r"^[a-z][a-z_]*(\.[a-z][a-z_]*)+: ")


def _log_calls() -> list[tuple[str, int, ast.expr | None]]:
    calls = []
    for path in sorted(SOURCE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in LEVELS
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in {"logger", "log", "logging"}
            ):
                first = node.args[0] if node.args else None
                calls.append((path.relative_to(SOURCE).as_posix(), node.lineno, first))
    return calls


def test_the_client_logs_somewhere() -> None:
    assert len(_log_calls()) >= 5


def test_every_log_message_starts_with_a_dotted_event() -> None:
    wrong = [
        f"{path}:{line}"
        for path, line, first in _log_calls()
        if not (
            isinstance(first, ast.Constant)
            and isinstance(first.value, str)
            and EVENT.match(first.value)
        )
    ]
    assert wrong == []
