"""`energy-data db upgrade`: apply the schema migrations (every command also does this)."""

from __future__ import annotations

import typer

from energy_data_service.cli._app import app
from energy_data_service.cli._common import console, run
from energy_data_service.db.migrate import upgrade
from energy_data_service.settings import load_settings

db_app = typer.Typer(name="db", help="Database schema.", no_args_is_help=True)
app.add_typer(db_app)


@db_app.command("upgrade")
def upgrade_command() -> None:
    """Bring the database at DATABASE__URL to the newest schema (idempotent)."""

    async def main() -> str:
        settings = load_settings()
        await upgrade(settings.database.url)
        return settings.database.url.split("@")[-1]

    where = run(main)
    console.print(f"Database schema is up to date ({where}).")
