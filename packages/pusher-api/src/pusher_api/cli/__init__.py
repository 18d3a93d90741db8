"""Command line `pusher-api`: each command lives in its own module and registers on `app`."""

from pusher_api.cli import connector, migrate, serve  # noqa: F401  (registers the commands)
from pusher_api.cli._app import app

__all__ = ["app"]
