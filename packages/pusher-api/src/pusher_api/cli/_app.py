"""The `pusher-api` Typer application that every command module registers on."""

import logging

import typer

app = typer.Typer(name="pusher-api", no_args_is_help=True, add_completion=False)

QUIET_LIBRARIES = {"aiokafka": logging.CRITICAL}
"""aiokafka logs every failed reconnect attempt at ERROR; our own warning says it once."""
