"""What to say when an optional dependency of the client (an extra) is not installed.

The library itself needs only httpx and lxml; the ``entsoe`` command and
``python -m entsoe_client.testing`` need the ``cli`` extra (typer, rich) and ``to_dataframe``
the ``pandas`` extra. Without them those entry points print this one message and exit non-zero
instead of ending in an ``ImportError`` traceback.
"""

from __future__ import annotations

CLI_MODULES = frozenset({"typer", "rich", "click"})
"""Top-level modules the ``cli`` extra brings (click comes with typer)."""


def missing_module(error: ModuleNotFoundError, extra_modules: frozenset[str]) -> str | None:
    """The top-level module of ``extra_modules`` whose absence raised ``error``, else None."""
    top = (error.name or "").partition(".")[0]
    return top if top in extra_modules else None


def missing_extra_message(what: str, extra: str, module: str) -> str:
    """One line saying what is missing and how to install it."""
    return (
        f"error: {what} needs the optional dependencies of entsoe-client[{extra}] "
        f"(the Python package {module!r} is not installed); install them with "
        f"`pip install 'entsoe-client[{extra}]'` (in this repository: `uv sync --all-extras`)\n"
    )
