"""Response bodies for series: CSV and Parquet streamed batch by batch (JSON: ``OrjsonResponse``).

CSV and Parquet are produced while the rows are read (``SeriesReadRepository.stream``), so a
decade of 15-minute data never sits whole in memory. CSV columns follow ``entsoe parse``:
``timestamp`` (interval start, ISO 8601 with UTC offset), ``value`` and ``price`` (empty
unless the point carries a price beside its quantity) first, series metadata after.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from energy_data_service.repositories.series_reads import Row, SeriesKey

IDENTITY_COLUMNS = (
    "area_code",
    "data_type",
    "business_type",
    "resolution",
    "classification_sequence",
    "unit",
    "out_area_code",
    "psr_type",
    "contract_type",
    "flow_direction",
    "price_category",
    "registered_resource",
)
"""The series columns every row carries, so rows of several series make one table."""
CSV_COLUMNS = ("timestamp", "value", "price", *IDENTITY_COLUMNS)
PARQUET_SCHEMA = pa.schema(
    [
        ("timestamp", pa.timestamp("us", tz="UTC")),
        ("value", pa.float64()),
        ("price", pa.float64()),
        *(
            (name, pa.int32() if name == "classification_sequence" else pa.string())
            for name in IDENTITY_COLUMNS
        ),
    ]
)
SeriesBatches = AsyncIterator[tuple[SeriesKey, list[Row]]]
"""Batches of rows, each with the series it belongs to (one series or several in turn)."""


def identity_of(series: SeriesKey) -> tuple[Any, ...]:
    """The ``IDENTITY_COLUMNS`` of a series."""
    return tuple(getattr(series, name) for name in IDENTITY_COLUMNS)


def _csv_cell(value: Any) -> str:
    text = str(value)
    return f'"{text.replace(chr(34), chr(34) * 2)}"' if any(c in text for c in ',"\n') else text


async def csv_chunks(batches: SeriesBatches) -> AsyncIterator[bytes]:
    """Header, then one block of lines per batch of rows."""
    yield (",".join(CSV_COLUMNS) + "\n").encode()
    suffixes: dict[int, str] = {}
    async for series, batch in batches:
        suffix = suffixes.get(series.series_id)
        if suffix is None:
            suffix = "".join("," + _csv_cell(v) for v in identity_of(series)) + "\n"
            suffixes[series.series_id] = suffix
        yield "".join(
            f"{ts.isoformat()},{value!r},{'' if price is None else repr(price)}{suffix}"
            for ts, value, price in batch
        ).encode()


class _ChunkSink(io.RawIOBase):
    """A write-only file that hands back what the Parquet writer wrote since the last call."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []
        self._position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._chunks.append(chunk)
        self._position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._position

    def take(self) -> bytes:
        data, self._chunks = b"".join(self._chunks), []
        return data


async def parquet_chunks(batches: SeriesBatches) -> AsyncIterator[bytes]:
    """One Parquet row group per batch, flushed to the client as soon as it is written."""
    sink = _ChunkSink()
    writer = pq.ParquetWriter(sink, PARQUET_SCHEMA, compression="zstd")
    try:
        async for series, batch in batches:
            count = len(batch)
            columns: dict[str, list[Any]] = {
                "timestamp": [row[0] for row in batch],
                "value": [row[1] for row in batch],
                "price": [row[2] for row in batch],
            }
            for name, value in zip(IDENTITY_COLUMNS, identity_of(series), strict=True):
                columns[name] = [value] * count
            writer.write_table(pa.table(columns, schema=PARQUET_SCHEMA))
            yield sink.take()
    finally:
        writer.close()
    yield sink.take()
