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

CSV_COLUMNS = (
    "timestamp",
    "value",
    "price",
    "area_code",
    "data_type",
    "business_type",
    "resolution",
    "classification_sequence",
    "unit",
)
PARQUET_SCHEMA = pa.schema(
    [
        ("timestamp", pa.timestamp("us", tz="UTC")),
        ("value", pa.float64()),
        ("price", pa.float64()),
        ("area_code", pa.string()),
        ("data_type", pa.string()),
        ("business_type", pa.string()),
        ("resolution", pa.string()),
        ("classification_sequence", pa.int32()),
        ("unit", pa.string()),
    ]
)


async def csv_chunks(series: SeriesKey, batches: AsyncIterator[list[Row]]) -> AsyncIterator[bytes]:
    """Header, then one block of lines per batch of rows."""
    yield (",".join(CSV_COLUMNS) + "\n").encode()
    suffix = (
        f",{series.area_code},{series.data_type},{series.business_type},"
        f"{series.resolution},{series.classification_sequence},{series.unit}\n"
    )
    async for batch in batches:
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


async def parquet_chunks(
    series: SeriesKey, batches: AsyncIterator[list[Row]]
) -> AsyncIterator[bytes]:
    """One Parquet row group per batch, flushed to the client as soon as it is written."""
    sink = _ChunkSink()
    writer = pq.ParquetWriter(sink, PARQUET_SCHEMA, compression="zstd")
    try:
        async for batch in batches:
            count = len(batch)
            table = pa.table(
                {
                    "timestamp": [row[0] for row in batch],
                    "value": [row[1] for row in batch],
                    "price": [row[2] for row in batch],
                    "area_code": [series.area_code] * count,
                    "data_type": [series.data_type] * count,
                    "business_type": [series.business_type] * count,
                    "resolution": [series.resolution] * count,
                    "classification_sequence": [series.classification_sequence] * count,
                    "unit": [series.unit] * count,
                },
                schema=PARQUET_SCHEMA,
            )
            writer.write_table(table)
            yield sink.take()
    finally:
        writer.close()
    yield sink.take()
