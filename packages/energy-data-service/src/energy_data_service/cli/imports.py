"""`energy-data import FILE.xml…`: store documents downloaded from the platform's website.

Area and data type come from each document (documentType/processType and the series'
domains). Files that cannot be read or hold other data are reported and skipped; the command
exits 1 if any file was skipped.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from entsoe_client import EntsoeError, MarketDocument, parse_response
from rich.table import Table

from energy_data_service.cli._app import app
from energy_data_service.cli._common import console, errors, run, with_container
from energy_data_service.container import Container
from energy_data_service.domain import area_label
from energy_data_service.errors import DishonestDocumentError, UnsupportedDocumentError
from energy_data_service.processors import process_documents
from energy_data_service.repositories.runs import CollectionRun
from energy_data_service.validation import refuse_dishonest


@app.command("import")
def import_files(
    files: Annotated[
        list[Path],
        typer.Argument(help="ENTSO-E XML documents (as downloaded from the platform)."),
    ],
) -> None:
    """Store the points of ENTSO-E XML documents; revisions are respected as for fetches."""

    async def main() -> tuple[dict[tuple[str, str], int], list[str]]:
        stored: dict[tuple[str, str], int] = defaultdict(int)
        problems: list[str] = []

        async def body(container: Container) -> None:
            for path in files:
                started = datetime.now(UTC)
                try:
                    items = parse_response(path.read_bytes())
                    documents = [d for d in items if isinstance(d, MarketDocument)]
                    if not documents:
                        raise UnsupportedDocumentError("no market document (an acknowledgement?)")
                    points = process_documents(documents, started)
                    refuse_dishonest(documents, points)
                except (
                    OSError,
                    EntsoeError,
                    UnsupportedDocumentError,
                    DishonestDocumentError,
                ) as error:
                    problems.append(f"{path}: {error}")
                    continue
                await container.points.upsert(points)
                spans: dict[tuple[str, str], list[datetime]] = defaultdict(list)
                for point in points:
                    spans[(point.area_code, point.data_type)].append(point.timestamp)
                for (area_code, data_type), stamps in spans.items():
                    stored[(area_code, data_type)] += len(stamps)
                    await container.runs.record(
                        CollectionRun(
                            run_kind="import",
                            area_code=area_code,
                            data_type=data_type,
                            window_start=min(stamps),
                            window_end=max(stamps),
                            started_at=started,
                            finished_at=datetime.now(UTC),
                            points=len(stamps),
                            success=True,
                        )
                    )

        await with_container(body)
        return stored, problems

    stored, problems = run(main)
    table = Table(title=f"Imported {len(files) - len(problems)} of {len(files)} files")
    table.add_column("area")
    table.add_column("data type")
    table.add_column("points", justify="right")
    for (area_code, data_type), count in sorted(stored.items()):
        table.add_row(area_label(area_code), data_type, f"{count:,}")
    console.print(table)
    for problem in problems:
        errors.print(f"[red]skipped[/] {problem}")
    if problems:
        raise typer.Exit(1)
