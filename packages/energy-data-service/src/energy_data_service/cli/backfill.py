"""`energy-data backfill`: years of history in platform-sized chunks, resumable."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from energy_data_service.cli._app import app
from energy_data_service.cli._common import (
    DATE_HELP,
    console,
    parse_areas,
    parse_data_types,
    parse_range,
    run,
    with_container,
)
from energy_data_service.container import Container
from energy_data_service.domain import resolve_area, resolve_border
from energy_data_service.errors import UsageError
from energy_data_service.series_domains import is_directional
from energy_data_service.services.backfill import BackfillReport, SeriesBackfill


@app.command()
def backfill(
    start: Annotated[str, typer.Option(help=f"First moment to load. {DATE_HELP}.")],
    end: Annotated[
        str | None, typer.Option(help=f"End (exclusive), default now. {DATE_HELP}.")
    ] = None,
    area: Annotated[
        list[str] | None,
        typer.Option(
            "--area",
            help="Area short name or EIC; repeat for more. Default: COLLECTION__AREAS.",
        ),
    ] = None,
    data_type: Annotated[
        list[str] | None,
        typer.Option(
            "--data-type",
            help="Data type; repeat for more. Default: COLLECTION__DATA_TYPES.",
        ),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(help="Skip chunks an earlier (interrupted) backfill already stored."),
    ] = False,
    out_area: Annotated[
        list[str] | None,
        typer.Option(
            "--out-area",
            help="Directional data (flows, exchanges, capacities): the area the energy comes "
            "from, for each --area; repeat for more borders. Default: COLLECTION__BORDERS.",
        ),
    ] = None,
) -> None:
    """Load history chunk by chunk (one platform request each), with progress saved per chunk.

    Interrupted (Ctrl-C, kill -9, crash)? Run the same command with --resume: only chunks
    not yet stored are fetched. Exits 1 if a chunk failed (resume to retry it).
    """

    async def main() -> BackfillReport:
        first, last = parse_range(start, end)
        assert first is not None
        stop = last or datetime.now(UTC)
        if first >= stop:
            raise UsageError(f"--start {first.isoformat()} must be before --end {stop.isoformat()}")

        async def body(container: Container) -> BackfillReport:
            areas = parse_areas(area, container.settings.collection.areas)
            types = parse_data_types(data_type, container.settings.collection.data_types)
            directional = [t for t in types if is_directional(t)]
            if out_area and not directional:
                raise UsageError("--out-area is only for directional data types (flows, …)")
            if out_area:
                sources = [resolve_area(name) for name in out_area]
                borders = [(target, source) for target in areas for source in sources]
            else:
                pairs = container.settings.collection.borders if directional else []
                borders = [(target, source) for source, target in map(resolve_border, pairs)]
            if directional and not borders:
                raise UsageError(
                    f"{directional[0]} is directional: give --out-area, the area the energy "
                    "comes from (--area is where it goes), or set COLLECTION__BORDERS"
                )
            service = await container.backfill_service()
            with Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("chunks · {task.fields[points]:,} points"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=console,
                transient=False,
            ) as progress:
                task: TaskID = progress.add_task("backfill", total=None, points=0)
                seen: dict[int, int] = {}

                def planned(total: int) -> None:
                    progress.update(task, total=total)

                def advanced(series: SeriesBackfill, done: int) -> None:
                    seen[id(series)] = series.points
                    progress.update(
                        task,
                        advance=done,
                        points=sum(seen.values()),
                        description=f"{_name(series)} {series.data_type}",
                    )

                return await service.run(
                    areas,
                    types,
                    first,
                    stop,
                    resume=resume,
                    on_planned=planned,
                    on_progress=advanced,
                    borders=borders,
                )

        return await with_container(body)

    report = run(main)
    table = Table(title=f"Backfill job {report.job_id}: {report.status}")
    for column in (
        "area",
        "data type",
        "chunks",
        "skipped",
        "stored",
        "failed",
        "points",
        "complete",
    ):
        table.add_column(column, justify="left" if column in ("area", "data type") else "right")
    for s in report.series:
        table.add_row(
            _name(s),
            s.data_type,
            str(s.chunks),
            str(s.skipped),
            str(s.done),
            f"[red]{s.failed}[/]" if s.failed else "0",
            f"{s.points:,}",
            f"{(s.coverage or 0) * 100:.1f}%",
        )
    console.print(table)
    rate = report.points / report.seconds if report.seconds else 0.0
    console.print(f"{report.points:,} points in {report.seconds:.1f} s ({rate:,.0f} points/s)")
    for s in report.series:
        for error in s.errors:
            console.print(f"[red]failed:[/] {error}")
    if report.status == "failed":
        console.print("Run the same command with --resume to retry the failed chunks.")
        raise typer.Exit(1)
    if report.status == "interrupted":
        console.print(
            "This run was taken over by another process (it stalled past its lease): "
            "that process finishes the job."
        )
        raise typer.Exit(1)


def _name(series: SeriesBackfill) -> str:
    """``FR`` or, for a border, ``FR←DE_LU`` (where the energy goes ← where it comes from)."""
    if series.out_area is None:
        return str(series.area.short_name)
    return f"{series.area.short_name}←{series.out_area.short_name}"
