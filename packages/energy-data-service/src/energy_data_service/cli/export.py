"""`energy-data export`: stored points as CSV, JSON or Parquet, streamed in batches.

Rows are read with a server-side cursor and written batch by batch (Parquet: one row group
per batch through ``ParquetWriter``), so a year of 15-minute data never sits whole in memory.
CSV columns follow `entsoe parse`: ``timestamp`` (interval start, ISO 8601 with offset),
``value``, then the series metadata. Series follow one another, each in time order (as `entsoe
parse` prints a document's series). ``--as-of`` exports the values as known at that instant.
"""

from __future__ import annotations

import csv
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Annotated, Any, Literal
from zoneinfo import ZoneInfo

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import typer
from entsoe_client import (
    COLUMNS,
    PLATFORM_TABLE,
    DataType,
    InvalidQueryError,
    parse_contract_type,
    parse_psr_type,
)

from energy_data_service.cli._app import app
from energy_data_service.cli._common import DATE_HELP, errors, parse_range, run, with_container
from energy_data_service.container import Container
from energy_data_service.domain import (
    DATA_TYPE_BY_DOCUMENT,
    EnergyPoint,
    resolve_area,
    resolve_data_type,
    step_end,
)
from energy_data_service.errors import UnknownChoiceError, UsageError
from energy_data_service.series_domains import (
    is_directional,
    series_domains,
)

_DOCUMENT_OF: dict[str, tuple[str, str | None]] = {}
for (_document_type, _process_type), _data_type in DATA_TYPE_BY_DOCUMENT.items():
    _DOCUMENT_OF.setdefault(_data_type, (_document_type, _process_type))

_STRING = pa.string()
PARQUET_SCHEMA = pa.schema(
    [
        (name, pa.timestamp("us", tz="UTC"))
        if name in ("timestamp", "end")
        else (name, pa.float64())
        if name in ("value", "price")
        else (name, pa.int32())
        if name in ("revision_number", "classification_sequence", "position")
        else (name, _STRING)
        for name in COLUMNS
    ]
)


def _row(point: EnergyPoint, zone: ZoneInfo) -> tuple[Any, ...]:
    """One point in ``entsoe parse`` column order (what the store does not keep is empty)."""
    document_type, process_type = _DOCUMENT_OF.get(point.data_type, (None, None))
    is_price = "/" in point.unit
    currency, _, price_unit = point.unit.partition("/")
    domains = series_domains(point.data_type, point.area_code, point.out_area_code)
    values: dict[str, Any] = {
        "timestamp": point.timestamp,
        "end": point.end or step_end(point.timestamp, point.resolution, zone),
        "value": point.value,
        "price": point.price,
        "psr_type": point.psr_type or None,
        "document_mrid": point.document_mrid,
        "revision_number": point.revision_number,
        "document_type": document_type,
        "process_type": process_type,
        "business_type": point.business_type or None,
        "area": domains.area,
        "in_domain": domains.in_domain,
        "out_domain": domains.out_domain,
        "registered_resource": point.registered_resource or None,
        "flow_direction": point.flow_direction or None,
        "contract_type": point.contract_type or None,
        "price_category": point.price_category or None,
        "resolution": point.resolution,
        "curve_type": point.curve_type,
        "unit": None if is_price else point.unit,
        "currency": currency if is_price else None,
        "price_unit": price_unit if is_price else None,
        "classification_sequence": point.classification_sequence or None,
    }
    return tuple(values.get(name) for name in COLUMNS)


@contextmanager
def _text_output(output: Path | None) -> Iterator[IO[str]]:
    if output is None:
        yield sys.stdout
        return
    with output.open("w", encoding="utf-8", newline="") as handle:
        yield handle


class _CsvWriter:
    def __init__(self, handle: IO[str]) -> None:
        self._writer = csv.writer(handle, lineterminator="\n")
        self._writer.writerow(COLUMNS)

    def write(self, rows: list[tuple[Any, ...]]) -> None:
        self._writer.writerows(
            ("" if v is None else v.isoformat() if isinstance(v, datetime) else v for v in r)
            for r in rows
        )

    def close(self) -> None:
        """Nothing to finish for CSV."""


class _JsonWriter:
    """A JSON array written element by element."""

    def __init__(self, handle: IO[str]) -> None:
        self._handle = handle
        self._first = True
        handle.write("[")

    def write(self, rows: list[tuple[Any, ...]]) -> None:
        for row in rows:
            record = {
                name: value.isoformat() if isinstance(value, datetime) else value
                for name, value in zip(COLUMNS, row, strict=True)
            }
            self._handle.write(("\n" if self._first else ",\n") + orjson.dumps(record).decode())
            self._first = False

    def close(self) -> None:
        self._handle.write("\n]\n")


class _ParquetWriter:
    def __init__(self, path: Path) -> None:
        self._writer = pq.ParquetWriter(str(path), PARQUET_SCHEMA, compression="zstd")

    def write(self, rows: list[tuple[Any, ...]]) -> None:
        columns = list(zip(*rows, strict=True))
        self._writer.write_table(pa.Table.from_arrays(columns, schema=PARQUET_SCHEMA))

    def close(self) -> None:
        self._writer.close()


def parse_as_of(text: str | None) -> datetime | None:
    """``--as-of``: an aware instant, not in the future; else a one-line usage error."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"--as-of {text!r} is not an ISO 8601 timestamp (e.g. 2026-03-01T12:00:00+00:00)"
        ) from None
    if moment.tzinfo is None:
        raise UsageError(f"--as-of {text!r} has no UTC offset: add one, e.g. {text.strip()}Z")
    if moment > datetime.now(UTC):
        raise UsageError(f"--as-of {text} lies in the future: nothing is known about it yet")
    return moment.astimezone(UTC)


TWO_SIDED = frozenset({"net_positions"})
"""Not asked with two areas, but published with two domains (the zone and a region)."""

_EIC = re.compile(r"[0-9A-Z][0-9A-Z_-]{15}")


def export_area(name: str) -> tuple[str, ZoneInfo]:
    """EIC and market time zone of ``--area``; an EIC the client does not know (the platform's
    region codes on net positions) is taken as it is, in UTC."""
    try:
        area = resolve_area(name)
    except UnknownChoiceError:
        if _EIC.fullmatch(name.strip()):
            return name.strip(), ZoneInfo("UTC")
        raise
    return area.eic, area.time_zone


def series_filter(
    data_type: str,
    out_area: str | None,
    psr_type: str | None,
    contract_type: str | None = None,
) -> dict[str, str]:
    """Catalogue filters from ``--out-area``/``--psr-type``/``--contract-type``; one-line
    errors for misuse."""
    identity: dict[str, str] = {}
    if is_directional(data_type):
        if out_area is None:
            raise UsageError(
                f"{data_type} is directional: give --out-area, the area the energy comes from "
                "(--area is where it goes), e.g. --area FR --out-area DE_LU"
            )
        identity["out_area_code"] = resolve_area(out_area).eic
    elif out_area is not None and data_type in TWO_SIDED:
        identity["out_area_code"] = export_area(out_area)[0]
    elif out_area is not None:
        raise UsageError(f"{data_type} is not directional: drop --out-area")
    if psr_type is not None:
        try:
            identity["psr_type"] = parse_psr_type(psr_type)
        except InvalidQueryError as error:
            raise UsageError(str(error)) from None
    if contract_type is not None:
        try:
            rule = PLATFORM_TABLE[DataType(data_type)]
            identity["contract_type"] = parse_contract_type(rule, contract_type, data_type)
        except InvalidQueryError as error:
            raise UsageError(str(error)) from None
    return identity


@app.command()
def export(
    area: Annotated[str, typer.Option(help="Area short name (DE_LU, FR, …) or EIC.")],
    data_type: Annotated[str, typer.Option("--data-type", help="actual_load, day_ahead_prices, …")],
    start: Annotated[str, typer.Option(help=f"First interval start. {DATE_HELP}.")],
    end: Annotated[str, typer.Option(help=f"End (exclusive). {DATE_HELP}.")],
    format: Annotated[
        Literal["csv", "json", "parquet"], typer.Option("--format", help="Output format.")
    ] = "csv",
    output: Annotated[
        Path | None, typer.Option(help="File to write; default standard output (not for parquet).")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=100, help="Rows per read/write batch.")] = 10_000,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="ISO 8601 instant with offset: the values as they were known then "
            "(stored by then and not yet replaced). Default: the current values.",
        ),
    ] = None,
    out_area: Annotated[
        str | None,
        typer.Option(
            "--out-area",
            help="Directional data (flows, exchanges, capacities): the area the energy comes "
            "from; --area is where it goes.",
        ),
    ] = None,
    psr_type: Annotated[
        str | None,
        typer.Option("--psr-type", help="Production type (B16 or solar, …); default: every type."),
    ] = None,
    contract_type: Annotated[
        str | None,
        typer.Option(
            "--contract-type",
            help="Horizon of exchanges and transfer capacities: A01 day_ahead, A02 week_ahead, "
            "A03 month_ahead, A04 year_ahead, A05 total; default: every horizon.",
        ),
    ] = None,
) -> None:
    """Write every stored point of one area × data type overlapping [--start, --end)."""

    async def main() -> int:
        known_at = parse_as_of(as_of)
        first, last = parse_range(start, end)
        assert first is not None
        assert last is not None
        area_code, zone = export_area(area)
        chosen_type = resolve_data_type(data_type)
        identity = series_filter(chosen_type, out_area, psr_type, contract_type)
        if format == "parquet" and output is None:
            raise UsageError("--format parquet needs --output FILE")

        async def body(container: Container) -> int:
            written = 0
            with _text_output(output if format != "parquet" else None) as handle:
                writer: _CsvWriter | _JsonWriter | _ParquetWriter
                if format == "parquet":
                    assert output is not None
                    writer = _ParquetWriter(output)
                elif format == "json":
                    writer = _JsonWriter(handle)
                else:
                    writer = _CsvWriter(handle)
                try:
                    async for batch in container.points.iter_range(
                        area_code,
                        chosen_type,
                        first,
                        last,
                        batch_size,
                        as_of=known_at,
                        **identity,
                    ):
                        writer.write([_row(p, zone) for p in batch])
                        written += len(batch)
                finally:
                    writer.close()
            return written

        return await with_container(body)

    written = run(main)
    errors.print(f"{written:,} points exported" + (f" to {output}" if output else ""))
