"""Without the ``cli`` extra the ``entsoe`` command says what is missing and how to install it.

The workspace installs every extra, so each test runs the installed console script's target in
a fresh interpreter whose import system refuses the extra's packages, as if they had never been
installed: one message on stderr naming the missing package and both ways to install it, exit
code 1, no traceback.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from importlib.metadata import entry_points, requires

import pytest

BLOCKED_IMPORTS = textwrap.dedent(
    """
    import importlib.abc
    import sys

    BLOCKED = set(sys.argv[1].split(","))

    class NotInstalled(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, NotInstalled())
    sys.argv = [sys.argv[0], *sys.argv[2:]]
    """
)

RUN_ENTSOE = BLOCKED_IMPORTS + textwrap.dedent(
    """
    from importlib.metadata import entry_points

    (script,) = entry_points(group="console_scripts", name="entsoe")
    script.load()()
    """
)


def run(code: str, blocked: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, blocked, *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_says_how_to_install(result: subprocess.CompletedProcess[str], missing: str) -> None:
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert f"'{missing}' is not installed" in result.stderr
    assert "pip install 'entsoe-client[cli]'" in result.stderr
    assert "uv sync --all-extras" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("args", [(), ("parse", "--help"), ("fetch", "actual_load")])
def test_entsoe_without_typer_says_what_is_missing(args: tuple[str, ...]) -> None:
    assert_says_how_to_install(run(RUN_ENTSOE, "typer,rich", *args), "typer")


def test_entsoe_without_rich_names_rich() -> None:
    assert_says_how_to_install(run(RUN_ENTSOE, "rich", "--help"), "rich")


def test_the_fake_platform_command_without_typer_says_what_is_missing() -> None:
    code = (
        BLOCKED_IMPORTS
        + "import runpy\nrunpy.run_module('entsoe_client.testing', run_name='__main__')\n"
    )
    assert_says_how_to_install(run(code, "typer", "--help"), "typer")


def test_the_library_and_its_test_doubles_import_without_the_extra() -> None:
    code = BLOCKED_IMPORTS + textwrap.dedent(
        """
        import entsoe_client, entsoe_client.testing
        from entsoe_client.cli import main
        print(len(entsoe_client.__all__), main.__name__)
        """
    )
    result = run(code, "typer,rich,click")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(len(__import__("entsoe_client").__all__)), "main"]


def test_with_the_extra_the_same_entry_point_runs_the_command() -> None:
    result = run(RUN_ENTSOE, "nothing-blocked", "--help")
    assert result.returncode == 0, result.stderr
    assert "parse" in result.stdout
    assert "fetch" in result.stdout


def test_typer_and_rich_are_required_only_by_the_cli_extra() -> None:
    requirements = requires("entsoe-client") or []
    for package in ("typer", "rich"):
        (line,) = [r for r in requirements if r.startswith(package)]
        assert 'extra == "cli"' in line.replace("'", '"'), line
    (script,) = entry_points(group="console_scripts", name="entsoe")
    assert script.value == "entsoe_client.cli:main"
