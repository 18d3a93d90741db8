"""`energy-data quality`: the daily quality report as JSON (optionally re-fetching its gaps)."""

from __future__ import annotations

import sys
from datetime import date
from typing import Annotated, Any

import orjson
import typer

from energy_data_service.cli._app import app
from energy_data_service.cli._common import parse_areas, parse_data_types, run, with_container
from energy_data_service.container import Container
from energy_data_service.errors import UsageError


def _day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"--date {text!r} is not a date like 2024-03-31") from None


@app.command()
def quality(
    day: Annotated[
        str | None,
        typer.Option("--date", help="Local day of each area, YYYY-MM-DD (default: yesterday)."),
    ] = None,
    area: Annotated[
        list[str] | None, typer.Option(help="Area (repeatable; default COLLECTION__AREAS).")
    ] = None,
    data_type: Annotated[
        list[str] | None,
        typer.Option(help="Data type (repeatable; default COLLECTION__DATA_TYPES)."),
    ] = None,
    remediate: Annotated[
        bool, typer.Option(help="Re-fetch the missing intervals from the platform afterwards.")
    ] = False,
) -> None:
    """Score every series for one day (completeness, values, outliers, flat lines, revisions).

    Prints the report as JSON and stores the scores; see MONITORING.md for what each figure means.
    """

    async def main() -> dict[str, Any]:
        async def body(container: Container) -> dict[str, Any]:
            settings = container.settings.collection
            areas = [a.name for a in parse_areas(area, settings.areas)]
            types = parse_data_types(data_type, settings.data_types)
            service = container.quality_service
            report = await service.report(_day(day) or service.yesterday(), areas, types)
            result = report.as_json()
            if remediate:
                fixed = await service.remediate(report)
                result["remediation"] = [
                    {
                        "area": r.area,
                        "data_type": r.data_type,
                        "start": r.start.isoformat(),
                        "end": r.end.isoformat(),
                        "points": r.points,
                        "error": r.error,
                    }
                    for r in fixed
                ]
            return result

        return await with_container(body)

    result = run(main)
    sys.stdout.buffer.write(orjson.dumps(result, option=orjson.OPT_INDENT_2) + b"\n")
    sys.stdout.flush()
