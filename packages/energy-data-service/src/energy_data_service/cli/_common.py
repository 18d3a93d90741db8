"""What every `energy-data` command shares: option parsing, user errors, the container.

User errors (bad settings, unknown area or data type, bad dates, a rejected token) end the
command with a one-line message in red and a non-zero exit code, never with a traceback: the
service's error tree (``energy_data_service.errors``) maps to exit codes in one table,
``EXIT_CODE_BY_ERROR``; a rejected token is 3, a database outage 1.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from contextlib import AbstractAsyncContextManager
from datetime import date, datetime
from typing import Any, TypeVar

import typer
from entsoe_client import Area, AuthenticationError, InvalidQueryError
from rich.console import Console
from rich.markup import escape
from service_common import is_database_outage

from energy_data_service.container import Container
from energy_data_service.domain import resolve_area, resolve_data_type, utc
from energy_data_service.errors import (
    CollectionError,
    ConfigurationError,
    ConflictError,
    DeliveryError,
    EnergyDataError,
    InvalidInputError,
    NotFoundError,
    UsageError,
)
from energy_data_service.settings import load_settings

console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)
T = TypeVar("T")

DATE_HELP = (
    "ISO 8601 date or time; without an offset it is UTC (2024-03-31 or 2024-03-31T22:00+02:00)"
)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``message`` as an error and return the exit to raise.

    The message is escaped: it may quote the platform or a file, and a ``[/x]`` in it must be
    shown, not read as markup.
    """
    errors.print(f"[bold red]Error:[/] {escape(message)}")
    return typer.Exit(code)


def parse_moment(text: str | None, option: str) -> datetime | None:
    """``--start``/``--end`` values: dates or datetimes, UTC unless an offset is given."""
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = datetime.combine(date.fromisoformat(text.strip()), datetime.min.time())
        except ValueError:
            raise UsageError(
                f"{option} {text!r} is not an ISO 8601 date or time "
                "(e.g. 2024-03-31 or 2024-03-31T22:00Z)"
            ) from None
    return utc(parsed)


def parse_range(start: str | None, end: str | None) -> tuple[datetime | None, datetime | None]:
    """Both ends parsed; start must be before end."""
    first, last = parse_moment(start, "--start"), parse_moment(end, "--end")
    if first is not None and last is not None and first >= last:
        raise UsageError(f"--start {first.isoformat()} must be before --end {last.isoformat()}")
    return first, last


def parse_areas(names: list[str] | None, default: list[str]) -> list[Area]:
    """``--area`` values (short names or EICs), or the configured areas."""
    return [resolve_area(name) for name in (names or default)]


def parse_data_types(names: list[str] | None, default: list[str]) -> list[str]:
    """``--data-type`` values, or the configured data types."""
    return [resolve_data_type(name) for name in (names or default)]


EXIT_CODE_BY_ERROR: dict[type[EnergyDataError], int] = {
    InvalidInputError: 2,
    ConfigurationError: 2,
    NotFoundError: 2,
    ConflictError: 1,
    CollectionError: 1,
    DeliveryError: 1,
}
"""The exit code of each branch of the error tree (2: change the command or the settings; 1:
the work failed, try again later); what is not listed stays a traceback worth reporting."""


def exit_code_of(error: EnergyDataError) -> int | None:
    """The exit code of the most specific class of ``error`` in the table, or None (a fault)."""
    for cls in type(error).__mro__:
        code = EXIT_CODE_BY_ERROR.get(cls)
        if code is not None:
            return code
    return None


def run(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run an async command body, turning user errors into messages and exit codes."""
    try:
        return asyncio.run(main())
    except EnergyDataError as error:
        code = exit_code_of(error)
        if code is None:
            raise
        raise fail(str(error), code=code) from None
    except InvalidQueryError as error:
        raise fail(str(error)) from None
    except AuthenticationError as error:
        raise fail(f"{error} Nothing was stored.", code=3) from None
    except KeyboardInterrupt:
        raise fail("interrupted", code=130) from None
    except Exception as error:
        if is_database_outage(error):
            raise fail(
                f"the database is unreachable ({type(error).__name__}: {error}); check "
                "DATABASE__URL and that the database server is running",
                code=1,
            ) from None
        if isinstance(error, OSError) and error.filename is not None:
            raise fail(f"cannot use {error.filename}: {error.strerror}", code=1) from None
        raise


def open_container() -> AbstractAsyncContextManager[Container]:
    """The container from the environment (migrations applied on entry)."""
    return Container(load_settings())


async def with_container(body: Callable[[Container], Awaitable[T]]) -> T:
    """Open the container, run ``body``, close it."""
    async with open_container() as container:
        return await body(container)
