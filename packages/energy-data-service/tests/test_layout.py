"""The layers stay apart: routes and jobs see services, never the composition root, and the
package's modules import one another without a circle."""

from __future__ import annotations

import ast
from pathlib import Path

import energy_data_service

PACKAGE = Path(energy_data_service.__file__).parent
NAME = "energy_data_service"


def _module_name(path: Path) -> str:
    parts = [NAME, *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every ``energy_data_service`` module ``path`` imports, wherever the import stands."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(NAME):
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith(NAME))
    return found


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
GRAPH = {
    name: {i for i in _imports(path) if i in MODULES} - {name} for name, path in MODULES.items()
}


def test_routes_and_jobs_never_see_the_container() -> None:
    readers = [
        name
        for name, path in MODULES.items()
        if name.startswith((f"{NAME}.api.routes", f"{NAME}.dashboard", f"{NAME}.services"))
        and (f"{NAME}.container" in GRAPH[name] or "app.state" in path.read_text())
    ]
    assert readers == []


def test_only_the_dependencies_read_the_app_state() -> None:
    readers = {name for name, path in MODULES.items() if "app.state" in path.read_text()} - {
        f"{NAME}.api.deps",
        f"{NAME}.api.main",
    }
    assert readers == set()


def test_no_import_circle() -> None:
    def circle_from(start: str) -> list[str] | None:
        stack = [(start, [start])]
        seen = set()
        while stack:
            name, trail = stack.pop()
            for nxt in GRAPH[name]:
                if nxt == start:
                    return [*trail, start]
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, [*trail, nxt]))
        return None

    circles = [c for name in sorted(MODULES) if (c := circle_from(name)) is not None]
    assert circles == []
