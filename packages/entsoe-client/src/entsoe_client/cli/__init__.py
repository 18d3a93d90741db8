"""Command line ``entsoe``: each command lives in its own module and registers on ``app``.

The command needs the ``cli`` extra (typer, rich): ``pip install 'entsoe-client[cli]'``.
``main``, the console script, imports without it, so that ``entsoe`` run without the extra says
what is missing and how to install it (exit code 1) instead of ending in a traceback. ``app`` is
the Typer application itself (for ``typer.testing.CliRunner`` and for embedding); reading it
needs the extra.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from entsoe_client._extras import CLI_MODULES, missing_extra_message, missing_module

if TYPE_CHECKING:
    import typer

__all__ = ["app", "main"]


def _load_app() -> typer.Typer:
    from entsoe_client.cli import _fetch, _parse  # noqa: F401  (registers the commands)
    from entsoe_client.cli._app import app

    return app


def main() -> None:
    """Run ``entsoe``; without the ``cli`` extra, one line on stderr and exit code 1."""
    try:
        app = _load_app()
    except ModuleNotFoundError as error:
        module = missing_module(error, CLI_MODULES)
        if module is None:
            raise
        sys.stderr.write(missing_extra_message("the entsoe command", "cli", module))
        raise SystemExit(1) from None
    app()


def __getattr__(name: str) -> typer.Typer:
    if name == "app":
        return _load_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
