"""`energy-data export`: stored points as CSV, JSON or Parquet, streamed in batches.

Rows are read with a server-side cursor and written batch by batch (Parquet: one row group
per batch through ``ParquetWriter``), so a year of 15-minute data never sits whole in memory.
CSV columns follow `entsoe parse`: ``timestamp`` (interval start, ISO 8601 with offset),
``value``, then the series metadata.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Annotated, Any, Literal

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import typer

from energy_data_service.cli._app import app
from energy_data_service.cli._common import (
    DATE_HELP,
    UsageError,
    errors,
    parse_range,
    run,
    with_container,
)
from energy_data_service.container import Container
from energy_data_service.domain import EnergyPoint, resolve_area, resolve_data_type

COLUMNS = (
    "timestamp",
    "value",
    "unit",
    "resolution",
    "business_type",
    "curve_type",
    "classification_sequence",
    "area",
    "area_code",
    "data_type",
    "document_mrid",
    "revision_number",
)
PARQUET_SCHEMA = pa.schema(
    [
        ("timestamp", pa.timestamp("us", tz="UTC")),
        ("value", pa.float64()),
        ("unit", pa.string()),
        ("resolution", pa.string()),
        ("business_type", pa.string()),
        ("curve_type", pa.string()),
        ("classification_sequence", pa.int32()),
        ("area", pa.string()),
        ("area_code", pa.string()),
        ("data_type", pa.string()),
        ("document_mrid", pa.string()),
        ("revision_number", pa.int32()),
    ]
)


def _row(point: EnergyPoint, area: str) -> tuple[Any, ...]:
    return (
        point.timestamp,
        point.value,
        point.unit,
        point.resolution,
        point.business_type,
        point.curve_type,
        point.classification_sequence,
        area,
        point.area_code,
        point.data_type,
        point.document_mrid,
        point.revision_number,
    )


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
        self._writer.writerows((r[0].isoformat(), repr(r[1]), *r[2:]) for r in rows)

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
            record = dict(zip(COLUMNS, row, strict=True))
            record["timestamp"] = row[0].isoformat()
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
) -> None:
    """Write every stored point of one area × data type in [--start, --end)."""

    async def main() -> int:
        first, last = parse_range(start, end)
        assert first is not None
        assert last is not None
        chosen_area = resolve_area(area)
        chosen_type = resolve_data_type(data_type)
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
                        chosen_area.eic, chosen_type, first, last, batch_size=batch_size
                    ):
                        writer.write([_row(p, chosen_area.short_name) for p in batch])
                        written += len(batch)
                finally:
                    writer.close()
            return written

        return await with_container(body)

    written = run(main)
    errors.print(f"{written:,} points exported" + (f" to {output}" if output else ""))
