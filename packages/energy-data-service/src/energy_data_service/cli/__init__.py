"""Command line `energy-data`: each command lives in its own module and registers on `app`."""

from energy_data_service.cli import collect, backfill, imports, export, status, db, serve, quality  # noqa: F401  (registers the commands)
from energy_data_service.cli._app import app

__all__ = ["app"]
