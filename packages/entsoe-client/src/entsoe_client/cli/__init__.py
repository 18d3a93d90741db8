"""Command line `entsoe`: each command lives in its own module and registers on `app`."""

from entsoe_client.cli import _fetch, _parse  # noqa: F401  (registers the commands)
from entsoe_client.cli._app import app

__all__ = ["app"]
