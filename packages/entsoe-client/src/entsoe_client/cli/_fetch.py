"""`entsoe fetch`: one data type, one area, one range from the platform, as CSV or JSON.

Dates without a UTC offset are UTC. Long ranges show a progress bar over the chunks on stderr
and every run ends with a summary line there, so stdout holds only the data. Mistakes (unknown
area or data type, start not before end, a refused token) end with one line and exit code 2
(bad input) or 1 (the platform failed), never a traceback.
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.text import Text

from entsoe_client._client import DEFAULT_BASE_URL, ChunkResult, EntsoeClient
from entsoe_client._exceptions import EntsoeError, InvalidQueryError
from entsoe_client._models import MarketDocument
from entsoe_client._queries import DataType, Query
from entsoe_client._tabular import write_csv, write_json
from entsoe_client.cli._app import app

DATE_HELP = (
    "ISO 8601 date or time; without an offset it is UTC (2024-03-31, 2024-03-31T22:00+02:00)"
)
errors = Console(stderr=True, highlight=False)


class OutputFormat(StrEnum):
    csv = "csv"
    json = "json"


def parse_moment(value: str, name: str) -> datetime:
    """An aware datetime from the command line; a value without an offset is UTC."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidQueryError(
            f"--{name} {value!r} is not an ISO 8601 date or time (try 2024-03-31 or "
            "2024-03-31T22:00Z)."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _fail(error: Exception) -> None:
    """One line on stderr; the platform's text is printed as is, never read as markup."""
    errors.print(Text.assemble(("error: ", "red"), str(error)), soft_wrap=True)


def _write(documents: list[MarketDocument], output_format: OutputFormat, out: TextIO) -> None:
    if output_format is OutputFormat.json:
        write_json(documents, out)
    else:
        write_csv(documents, out)


async def _download(client: EntsoeClient, query: Query) -> list[MarketDocument]:
    chunk_count = len(query.chunks())
    if chunk_count == 1:
        return await client.fetch(query)
    total = (query.end - query.start).total_seconds()
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[chunks]}/" + str(chunk_count) + " chunks"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=errors,
        transient=True,
    ) as progress:
        task = progress.add_task(
            f"{query.data_type} {query.area.short_name}", total=total, chunks=0
        )

        def advance(chunk: ChunkResult) -> None:
            done = progress.tasks[task].fields["chunks"] + 1
            progress.update(task, advance=(chunk.end - chunk.start).total_seconds(), chunks=done)

        return await client.fetch(query, on_progress=advance)


async def _run(
    query: Query, token: str, base_url: str, requests_per_minute: float
) -> list[MarketDocument]:
    async with EntsoeClient(
        token, base_url=base_url, requests_per_minute=requests_per_minute or None
    ) as client:
        return await _download(client, query)


@app.command()
def fetch(
    data_type: Annotated[
        str,
        typer.Option("--data-type", "-d", help=f"One of: {', '.join(d.value for d in DataType)}."),
    ],
    area: Annotated[str, typer.Option("--area", "-a", help="Short name (DE_LU, FR, NL) or EIC.")],
    start: Annotated[str, typer.Option(help=f"Start (inclusive). {DATE_HELP}.")],
    end: Annotated[str, typer.Option(help=f"End (exclusive). {DATE_HELP}.")],
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="Output format.")
    ] = OutputFormat.csv,
    psr_type: Annotated[
        str | None,
        typer.Option(help="Production type (B16 solar, B19 wind onshore, ...) where allowed."),
    ] = None,
    out_area: Annotated[
        str | None,
        typer.Option(
            help="Directional data (flows, exchanges, capacities): the area the energy comes from."
        ),
    ] = None,
    contract_type: Annotated[
        str | None,
        typer.Option(
            help="Horizon of exchanges (A05 total, A01 day_ahead) and transfer capacities (A01 "
            "day_ahead, A02 week_ahead, A03 month_ahead, A04 year_ahead)."
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar=["ENTSOE__API_TOKEN", "ENTSOE_API_TOKEN"],
            help="Security token of the platform (default: $ENTSOE__API_TOKEN or "
            "$ENTSOE_API_TOKEN).",
            show_default=False,
        ),
    ] = None,
    base_url: Annotated[
        str, typer.Option(envvar="ENTSOE__BASE_URL", help="API endpoint.")
    ] = DEFAULT_BASE_URL,
    requests_per_minute: Annotated[
        float,
        typer.Option(min=0, help="Client-side pacing; the platform bans above 400. 0: no pacing."),
    ] = 400,
) -> None:
    """Fetch one data type for one area and range, split into requests the platform accepts."""
    started = time.perf_counter()
    try:
        query = Query.build(
            data_type,
            area,
            parse_moment(start, "start"),
            parse_moment(end, "end"),
            psr_type=psr_type,
            out_area=out_area,
            contract_type=contract_type,
        )
        if not token:
            raise InvalidQueryError(
                "No security token: pass --token or set ENTSOE__API_TOKEN (or ENTSOE_API_TOKEN)."
            )
        documents = asyncio.run(_run(query, token, base_url, requests_per_minute))
    except InvalidQueryError as exc:
        _fail(exc)
        raise typer.Exit(2) from None
    except EntsoeError as exc:
        _fail(exc)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        errors.print("[yellow]interrupted[/yellow]")
        raise typer.Exit(130) from None

    if output is None:
        _write(documents, output_format, sys.stdout)
    else:
        with output.open("w", encoding="utf-8", newline="") as out:
            _write(documents, output_format, out)
    for document in documents:
        for warning in dict.fromkeys(document.warnings):
            errors.print(f"warning: {document.mrid}: {warning}", soft_wrap=True, markup=False)
    series = sum(len(d.series) for d in documents)
    points = sum(len(ts.points) for d in documents for ts in d.series)
    target = f" to {output}" if output else ""
    summary = (
        f"{points} points in {series} series ({query.data_type} {query.area.short_name}, "
        f"{query.start.isoformat()} to {query.end.isoformat()}, {len(query.chunks())} chunk(s)) "
        f"in {time.perf_counter() - started:.1f} s{target}"
    )
    errors.print(summary, soft_wrap=True, markup=False)
