"""The `energy-data` Typer application that every command module registers on."""

import typer

app = typer.Typer(name="energy-data", no_args_is_help=True, add_completion=False)
