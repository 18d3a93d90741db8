"""The `energy-data` Typer application that every command module registers on."""

import logging

import typer
from service_common import configure_logging

from energy_data_service.errors import SettingsError
from energy_data_service.settings import load_settings

app = typer.Typer(name="energy-data", no_args_is_help=True, add_completion=False)


@app.callback()
def _logging(ctx: typer.Context) -> None:
    """Collect, store and serve ENTSO-E series (load, generation, transmission, prices, balancing)
    with every value's history."""
    try:
        log = load_settings().log
        level, log_format = log.level, log.format
    except SettingsError:  # the command itself reports the invalid settings
        level, log_format = "", "text"
    default = "INFO" if ctx.invoked_subcommand == "serve" else "WARNING"
    # APScheduler narrates every job it adds and runs at INFO; our scheduler logs outcomes itself.
    configure_logging(
        level=level or default, log_format=log_format, quieter={"apscheduler": logging.WARNING}
    )
