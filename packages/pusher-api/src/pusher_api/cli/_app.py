"""The `pusher-api` Typer application that every command module registers on."""

import typer

app = typer.Typer(name="pusher-api", no_args_is_help=True, add_completion=False)
