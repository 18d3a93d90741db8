"""Command line `energy-data`: each command lives in its own module and registers on `app`."""

from energy_data_service.cli import backfill, collect, db, export, imports, quality, serve, status  # noqa: F401  (registers the commands)
from energy_data_service.cli._app import app

__all__ = ["app"]
