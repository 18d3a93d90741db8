"""`energy-data collect`: fetch a range, or fill every hole up to now, and store it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from entsoe_client import PLATFORM_TABLE, DataType, InvalidQueryError, parse_contract_type
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
from energy_data_service.domain import resolve_area
from energy_data_service.errors import UsageError
from energy_data_service.series_domains import is_directional
from energy_data_service.services.collection import CollectionResult


@app.command()
def collect(
    area: Annotated[
        list[str] | None,
        typer.Option(
            "--area",
            help="Area short name (DE_LU, FR, …) or EIC; repeat for more. "
            "Default: COLLECTION__AREAS.",
        ),
    ] = None,
    data_type: Annotated[
        list[str] | None,
        typer.Option(
            "--data-type",
            help="actual_load, day_ahead_prices, …; repeat for more. "
            "Default: COLLECTION__DATA_TYPES.",
        ),
    ] = None,
    start: Annotated[str | None, typer.Option(help=f"Range start. {DATE_HELP}.")] = None,
    end: Annotated[
        str | None, typer.Option(help=f"Range end (exclusive), default now. {DATE_HELP}.")
    ] = None,
    out_area: Annotated[
        str | None,
        typer.Option(
            "--out-area",
            help="Directional data (flows, exchanges, capacities): the area the energy comes "
            "from; --area is where it goes. Default: COLLECTION__BORDERS.",
        ),
    ] = None,
    contract_type: Annotated[
        str | None,
        typer.Option(
            "--contract-type",
            help="Horizon of scheduled exchanges (A05 total, A01 day_ahead) and transfer "
            "capacities (A01 day_ahead, A02 week_ahead, A03 month_ahead, A04 year_ahead). "
            "Default: total exchanges, day-ahead capacities.",
        ),
    ] = None,
) -> None:
    """Fetch [--start, --end) and store it; without --start, fill every hole in the window.

    The window is COLLECTION__LOOKBACK_DAYS back from now (plus the publication horizon of
    forecasts and tomorrow's prices once published). Exits 1 if any chunk failed.
    """

    async def main() -> list[CollectionResult]:
        first, last = parse_range(start, end)
        if first is None and last is not None:
            raise UsageError("--end needs --start (or give neither to fill the gaps up to now)")

        async def body(container: Container) -> list[CollectionResult]:
            areas = parse_areas(area, container.settings.collection.areas)
            types = parse_data_types(data_type, container.settings.collection.data_types)
            source = resolve_area(out_area) if out_area is not None else None
            directional = [t for t in types if is_directional(t)]
            horizons = {t: _contract_type(t, contract_type) for t in types}
            if contract_type is not None and not any(horizons.values()):
                raise UsageError(
                    "--contract-type is only for data types published per horizon "
                    "(scheduled_exchanges, net_transfer_capacity)"
                )
            if source is not None and not directional:
                raise UsageError("--out-area is only for directional data types (flows, …)")
            service = await container.collection_service()
            if first is None and source is None and contract_type is None:
                return await service.fill_all(areas, types, run_kind="collect")
            if first is None:
                return [
                    await service.fill_gaps(
                        a,
                        t,
                        run_kind="collect",
                        out_area=source if t in directional else None,
                        contract_type=horizons[t],
                    )
                    for a in areas
                    for t in types
                ]
            if directional and source is None:
                raise UsageError(
                    f"{directional[0]} is directional: give --out-area, the area the energy "
                    "comes from (--area is where it goes), e.g. --area FR --out-area DE_LU"
                )
            stop = last or datetime.now(UTC)
            if first >= stop:
                raise UsageError(f"--start {first.isoformat()} is in the future")
            return [
                await service.collect_range(
                    a,
                    t,
                    first,
                    stop,
                    out_area=source if t in directional else None,
                    contract_type=horizons[t],
                )
                for a in areas
                for t in types
            ]

        return await with_container(body)

    results = run(main)
    table = Table(title="Collection")
    for column in ("area", "from", "data type", "ranges", "points", "result"):
        table.add_column(column, justify="right" if column == "points" else "left")
    for result in results:
        ranges = (
            ", ".join(f"{a:%Y-%m-%d %H:%M}→{b:%Y-%m-%d %H:%M}" for a, b in result.ranges)
            or "complete"
        )
        outcome = "[green]ok[/]" if result.success else f"[red]failed: {result.error}[/]"
        source = result.out_area.short_name if result.out_area else ""
        table.add_row(
            result.area.short_name, source, result.data_type, ranges, f"{result.points:,}", outcome
        )
    console.print(table)
    if not all(r.success for r in results):
        raise typer.Exit(1)


def _contract_type(data_type: str, contract_type: str | None) -> str | None:
    """The horizon asked for one data type: ``--contract-type`` where the type has horizons
    (one line naming them when it is not one of them), else ``None``."""
    if contract_type is None:
        return None
    rule = PLATFORM_TABLE[DataType(data_type)]
    if not rule.contract_types:
        return None
    try:
        return parse_contract_type(rule, contract_type, data_type)
    except InvalidQueryError as error:
        raise UsageError(str(error)) from None
