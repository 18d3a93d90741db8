"""`pusher-api migrate`: bring the command store to the newest schema (`serve` does it too)."""

from __future__ import annotations

import asyncio
import sqlite3

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from pusher_api.cli._app import app
from pusher_api.settings import Settings
from pusher_api.store.migrate import migrate as migrate_store

_err = Console(stderr=True, soft_wrap=True)


def apply_migrations(settings: Settings, command: str) -> None:
    """Migrate the store of `settings`, or exit 1 with a message naming the database."""
    where = make_url(settings.database_url).render_as_string(hide_password=True)
    try:
        asyncio.run(migrate_store(settings.database_url))
    except (SQLAlchemyError, sqlite3.Error, OSError, TimeoutError) as error:
        _err.print(
            f"[red]pusher-api {command}:[/red] cannot migrate the command store at {escape(where)} "
            f"(DATABASE_URL): {type(error).__name__}: {escape(str(error))}"
        )
        raise typer.Exit(1) from None


@app.command()
def migrate() -> None:
    """Apply the command store's migrations (DATABASE_URL) and exit."""
    try:
        settings = Settings()
    except ValidationError as error:
        _err.print(f"[red]Invalid settings:[/red]\n{error}")
        raise typer.Exit(2) from None
    apply_migrations(settings, "migrate")
    _err.print("command store migrated to the newest revision")
