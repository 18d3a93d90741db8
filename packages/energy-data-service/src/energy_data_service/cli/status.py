"""`energy-data status`: what is stored, per series, and how complete it is.

A line is one area × data type × other area (directional data: where the energy comes from)
× production type, so a generation mix shows each production type and a border each direction;
resolutions, business types and units of one production type share a line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

import typer
from entsoe_client import CONTRACT_TYPES
from rich.table import Table

from energy_data_service.cli._app import app
from energy_data_service.cli._common import console, run, with_container
from energy_data_service.container import Container
from energy_data_service.coverage import fraction_covered, holes
from energy_data_service.domain import area_label, area_time_zone, step_end
from energy_data_service.series_domains import is_consumption


@dataclass(frozen=True, slots=True)
class SeriesStatus:
    """One line of the status table."""

    area: str
    data_type: str
    out_area: str
    psr_type: str
    variant: str
    """Horizon, balancing direction or imbalance price category (``A02``, ``up``, ``long``)."""
    resolutions: str
    first: datetime
    last: datetime
    points: int
    complete: float
    gaps: int


async def collect_status(container: Container) -> list[SeriesStatus]:
    """First/last point, completeness and holes between them, per series."""
    grouped: dict[tuple[str, ...], list[tuple[datetime, datetime, str, int]]] = {}
    for bounds in await container.points.series_bounds():
        identity = (
            bounds.area_code,
            bounds.data_type,
            bounds.out_area_code,
            bounds.psr_type,
            bounds.contract_type,
            bounds.flow_direction,
            bounds.price_category,
        )
        grouped.setdefault(identity, []).append(
            (bounds.first, bounds.last, bounds.resolution, bounds.points)
        )
    lines = []
    for key, series in sorted(grouped.items()):
        area_code, data_type, out_area, psr_type, contract, direction, category = key
        zone = area_time_zone(area_code)
        first = min(s[0] for s in series)
        last = max(s[1] for s in series)
        end = max(step_end(s[1], s[2], zone) for s in series if s[1] == last)
        present = await container.points.present_intervals(
            area_code,
            data_type,
            first,
            end,
            out_area_code=out_area,
            psr_type=psr_type,
            contract_type=contract,
            flow_direction=direction,
            price_category=category,
        )
        found = holes(present, first, end, zone)
        lines.append(
            SeriesStatus(
                area=area_label(area_code),
                data_type=data_type,
                out_area=_other_side(data_type, area_code, out_area),
                psr_type=psr_type,
                variant=" ".join(
                    v
                    for v in (
                        CONTRACT_TYPES.get(contract, contract),
                        _DIRECTIONS.get(direction, direction),
                        _CATEGORIES.get(category, category),
                    )
                    if v
                ),
                resolutions=", ".join(sorted({s[2] for s in series})),
                first=first,
                last=last,
                points=sum(s[3] for s in series),
                complete=fraction_covered(found, first, end),
                gaps=len(found),
            )
        )
    return lines


_DIRECTIONS = {"A01": "up", "A02": "down", "A03": "symmetric"}
_CATEGORIES = {"A04": "long", "A05": "short"}


def _other_side(data_type: str, area_code: str, out_area: str) -> str:
    if is_consumption(data_type, area_code, out_area):
        return "consumption"
    return area_label(out_area) if out_area else ""


@app.command()
def status(
    runs: Annotated[int, typer.Option(help="Also show this many recent collection runs.")] = 0,
) -> None:
    """Stored series: first and last timestamp (UTC), % complete between them, gaps."""

    async def main() -> tuple[list[SeriesStatus], list[tuple[str, ...]]]:
        async def body(container: Container) -> tuple[list[SeriesStatus], list[tuple[str, ...]]]:
            recent: list[tuple[str, ...]] = [
                (
                    f"{r.started_at:%Y-%m-%d %H:%M:%S}",
                    r.run_kind,
                    area_label(r.area_code),
                    r.data_type,
                    f"{r.points:,}",
                    "ok" if r.success else f"failed: {r.error_text}",
                )
                for r in (await container.runs.recent(runs) if runs else [])
            ]
            return await collect_status(container), recent

        return await with_container(body)

    lines, recent = run(main)
    if not lines:
        console.print(
            "No data stored yet. Try: energy-data collect --area DE_LU --data-type actual_load"
        )
    else:
        table = Table(title="Stored series")
        for column in (
            "area",
            "data type",
            "from / kind",
            "production type",
            "horizon / side",
            "resolution",
            "first (UTC)",
            "last (UTC)",
            "points",
            "complete",
            "gaps",
        ):
            table.add_column(
                column, justify="right" if column in ("points", "complete", "gaps") else "left"
            )
        for line in lines:
            table.add_row(
                line.area,
                line.data_type,
                line.out_area,
                line.psr_type,
                line.variant,
                line.resolutions,
                f"{line.first:%Y-%m-%d %H:%M}",
                f"{line.last:%Y-%m-%d %H:%M}",
                f"{line.points:,}",
                f"{line.complete * 100:.2f}%",
                str(line.gaps) if not line.gaps else f"[yellow]{line.gaps}[/]",
            )
        console.print(table)
    if recent:
        table = Table(title="Recent collection runs")
        for column in ("started (UTC)", "kind", "area", "data type", "points", "result"):
            table.add_column(column)
        for row in recent:
            table.add_row(*row)
        console.print(table)
