"""The public surface is exactly ``__all__``, and every name in it is real, public and documented.

Users and the two services import only from ``entsoe_client`` and ``entsoe_client.testing``; the
modules behind them are private (``_``-prefixed). These tests keep ``__all__`` honest the way
httpx's ``tests/test_exported_members.py`` does: a name made public by import alone, a name
exported but gone, or a private module the workspace's deep-import guard does not know of,
fails here.
"""

from __future__ import annotations

import inspect
import pkgutil
import tomllib
from pathlib import Path
from types import ModuleType

import entsoe_client
import entsoe_client.cli
import entsoe_client.testing
import pytest

PUBLIC_MODULES = (entsoe_client, entsoe_client.testing)
WORKSPACE_PYPROJECT = Path(__file__).resolve().parents[3] / "pyproject.toml"


def _ruff_order(name: str) -> tuple[int, str]:
    """RUF022's order: CONSTANTS, then Classes, then functions, each alphabetical."""
    if name.isupper():
        return (0, name)
    if name[:1].isupper():
        return (1, name)
    return (2, name)


def _public_names(module: ModuleType) -> set[str]:
    """What ``from module import *`` would offer without ``__all__``, submodules left out."""
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not isinstance(value, ModuleType)
    }


def _private_modules(package: ModuleType) -> list[str]:
    """Every ``_``-prefixed module under ``package``, dotted from ``entsoe_client``."""
    found = []
    for info in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}."):
        if info.name.rsplit(".", 1)[-1].startswith("_") and not info.name.endswith("__main__"):
            found.append(info.name)
    return sorted(found)


@pytest.mark.parametrize("module", PUBLIC_MODULES, ids=lambda m: m.__name__)
def test_all_is_every_public_name(module: ModuleType) -> None:
    assert sorted(module.__all__) == sorted(_public_names(module))


@pytest.mark.parametrize("module", PUBLIC_MODULES, ids=lambda m: m.__name__)
def test_all_is_sorted_without_duplicates(module: ModuleType) -> None:
    assert len(set(module.__all__)) == len(module.__all__)
    assert module.__all__ == sorted(module.__all__, key=_ruff_order)


@pytest.mark.parametrize("module", PUBLIC_MODULES, ids=lambda m: m.__name__)
def test_every_exported_name_exists_and_is_public(module: ModuleType) -> None:
    for name in module.__all__:
        assert not name.startswith("_"), name
        assert hasattr(module, name), f"{module.__name__}.__all__ names {name!r}, which is gone"


@pytest.mark.parametrize("module", PUBLIC_MODULES, ids=lambda m: m.__name__)
def test_exported_classes_and_functions_live_behind_the_root_and_say_why(
    module: ModuleType,
) -> None:
    for name in module.__all__:
        value = getattr(module, name)
        if not (inspect.isclass(value) or inspect.isfunction(value)):
            continue
        defined_in = value.__module__
        assert defined_in.startswith(f"{module.__name__}._"), (
            f"{name} comes from {defined_in}, not from a private module of {module.__name__}"
        )
        assert (inspect.getdoc(value) or "").strip(), f"{module.__name__}.{name} has no docstring"


def test_root_docstring_lists_every_exported_name() -> None:
    doc = entsoe_client.__doc__ or ""
    missing = [name for name in entsoe_client.__all__ if f"``{name}``" not in doc]
    assert missing == []


def test_every_error_class_is_exported() -> None:
    def subclasses(cls: type) -> set[type]:
        direct = set(cls.__subclasses__())
        return direct.union(*(subclasses(c) for c in direct))

    ours = {
        cls.__name__
        for cls in subclasses(entsoe_client.EntsoeError)
        if cls.__module__.startswith("entsoe_client.")
    }
    assert ours | {"EntsoeError"} <= set(entsoe_client.__all__)


def test_the_cli_package_exposes_its_app_and_the_console_script() -> None:
    assert entsoe_client.cli.__all__ == ["app", "main"]
    assert type(entsoe_client.cli.app).__name__ == "Typer"  # read lazily: it needs the extra
    assert inspect.isfunction(entsoe_client.cli.main)


def test_every_private_module_is_private_by_name() -> None:
    """Only the root, ``testing`` and ``cli`` are public; every other module starts with ``_``."""
    public = {"entsoe_client", "entsoe_client.testing", "entsoe_client.cli"}
    modules = [
        info.name
        for info in pkgutil.walk_packages(entsoe_client.__path__, prefix="entsoe_client.")
        if not info.name.endswith("__main__")
    ]
    assert [
        name
        for name in modules
        if name not in public and not name.rsplit(".", 1)[-1].startswith("_")
    ] == []


@pytest.mark.skipif(
    not WORKSPACE_PYPROJECT.is_file(), reason="the client is installed outside its workspace"
)
def test_workspace_bans_deep_imports_of_every_private_module() -> None:
    """ruff's TID251 in the workspace refuses a deep import from the services and benches."""
    config = tomllib.loads(WORKSPACE_PYPROJECT.read_text(encoding="utf-8"))
    banned = config["tool"]["ruff"]["lint"]["flake8-tidy-imports"]["banned-api"]
    assert sorted(name for name in banned if name.startswith("entsoe_client")) == (
        _private_modules(entsoe_client)
    )
