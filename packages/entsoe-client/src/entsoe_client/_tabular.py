"""Documents as rows: one row per point with its series metadata, as CSV, JSON or a DataFrame.

``COLUMNS`` is the public column list (``entsoe parse``, ``entsoe fetch`` and the energy data
service's export use it):

======================= ================================================================
timestamp               interval start, ISO 8601 in UTC with ``+00:00``
end                     interval end (exclusive), same format
value                   the point's value (the quantity, or the price when there is none)
price                   the point's price when it has one (empty otherwise); a point with a
                        quantity and a price (A25 explicit allocations) keeps both
document_mrid           the document's mRID
revision_number         the document's revision
document_type           A65, A44, A75, ...
process_type            A16, A01, ... (empty when absent)
series_mrid             the TimeSeries mRID within the document
business_type           A04, A62, ...
area                    the bidding zone the series is about, else the document's domain
in_domain / out_domain  in and out domains (in/outBiddingZone for GL documents)
resolution              PT15M, PT60M, P1D, P1M, ... of the point's own Period
curve_type              A01 or A03 (A03 is already forward-filled: every position is a row)
unit                    quantity unit (MAW, MWH, ...)
currency / price_unit   currency and price unit of price series
psr_type                production type (B16 solar, ...)
classification_sequence classification sequence position (day-ahead price sequences)
position                the point's position within its Period
registered_resource     the unit or resource of per-unit series
flow_direction          A01 up / A02 down for balancing series
contract_type           contract_MarketAgreement.type (A01 day-ahead … A05 total) where stated
price_category          A04 long / A05 short of imbalance prices
======================= ================================================================

Absent metadata is an empty CSV cell and ``null`` in JSON.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final, TextIO

from entsoe_client._models import Acknowledgement, MarketDocument, TimeSeries

if TYPE_CHECKING:
    import pandas

__all__ = ["COLUMNS", "iter_rows", "to_dataframe", "write_csv", "write_json"]

COLUMNS: Final[tuple[str, ...]] = (
    "timestamp",
    "end",
    "value",
    "price",
    "document_mrid",
    "revision_number",
    "document_type",
    "process_type",
    "series_mrid",
    "business_type",
    "area",
    "in_domain",
    "out_domain",
    "resolution",
    "curve_type",
    "unit",
    "currency",
    "price_unit",
    "psr_type",
    "classification_sequence",
    "position",
    "registered_resource",
    "flow_direction",
    "contract_type",
    "price_category",
)

Row = dict[str, Any]
Documents = Iterable[MarketDocument | Acknowledgement] | MarketDocument

_PANDAS_HINT = "to_dataframe() needs pandas: pip install 'entsoe-client[pandas]'"


def _documents(docs: Documents) -> Iterator[MarketDocument]:
    if isinstance(docs, MarketDocument):
        yield docs
        return
    for doc in docs:
        if isinstance(doc, MarketDocument):
            yield doc
        elif not isinstance(doc, Acknowledgement):
            raise TypeError(f"expected MarketDocument or Acknowledgement, got {type(doc).__name__}")


def _series_base(document: MarketDocument, series: TimeSeries) -> Row:
    """The metadata every row of a series shares, with every column in ``COLUMNS`` order."""
    return {
        "timestamp": None,
        "end": None,
        "value": None,
        "price": None,
        "document_mrid": document.mrid,
        "revision_number": document.revision_number,
        "document_type": document.document_type,
        "process_type": document.process_type,
        "series_mrid": series.mrid,
        "business_type": series.business_type,
        "area": series.bidding_zone or document.domain,
        "in_domain": series.in_domain,
        "out_domain": series.out_domain,
        "resolution": series.resolution,
        "curve_type": series.curve_type,
        "unit": series.unit,
        "currency": series.currency,
        "price_unit": series.price_unit,
        "psr_type": series.psr_type,
        "classification_sequence": series.classification_sequence,
        "position": None,
        "registered_resource": series.registered_resource,
        "flow_direction": series.flow_direction,
        "contract_type": series.contract_type,
        "price_category": series.price_category,
    }


def iter_rows(docs: Documents) -> Iterator[Row]:
    """One dict per point of every series of every document (Acknowledgements give none),
    keys in ``COLUMNS`` order."""
    for document in _documents(docs):
        for record in _document_records(document, COLUMNS):
            yield dict(zip(COLUMNS, record, strict=True))


def _document_records(document: MarketDocument, names: tuple[str, ...]) -> Iterator[list[Any]]:
    """The rows of one document as lists in ``names`` order, without building dicts."""
    slot = {name: i for i, name in enumerate(names)}
    timestamp_at = slot.get("timestamp")
    end_at = slot.get("end")
    value_at = slot.get("value")
    price_at = slot.get("price")
    position_at = slot.get("position")
    for series in document.series:
        base = _series_base(document, series)
        template = [base.get(name) for name in names]
        last_end: Any = None
        last_text = ""
        for point in series.points:
            record = template.copy()
            start = point.start
            start_text = last_text if start is last_end else start.isoformat()
            last_end = point.end
            last_text = last_end.isoformat()
            if timestamp_at is not None:
                record[timestamp_at] = start_text
            if end_at is not None:
                record[end_at] = last_text
            if value_at is not None:
                record[value_at] = point.value
            if price_at is not None:
                record[price_at] = point.price
            if position_at is not None:
                record[position_at] = point.position
            yield record


def _records(
    source: Iterable[Mapping[str, Any]] | Documents, names: tuple[str, ...]
) -> Iterator[list[Any]]:
    """Rows as lists in ``names`` order from rows, documents or a mix
    (``write_csv(documents, out)`` works as well as ``write_csv(iter_rows(documents), out)``)."""
    items: Iterable[Any] = [source] if isinstance(source, MarketDocument) else source
    for item in items:
        if isinstance(item, MarketDocument):
            yield from _document_records(item, names)
        elif isinstance(item, Acknowledgement):
            continue
        else:
            yield [item.get(name) for name in names]


def write_csv(
    rows: Iterable[Mapping[str, Any]] | Documents,
    file: TextIO,
    columns: Iterable[str] = COLUMNS,
) -> int:
    """Write a header and one line per row (rows or documents); returns the number of rows.

    Missing values are empty cells; floats are written with ``repr`` (shortest round-trip)."""
    names = tuple(columns)
    writer = csv.writer(file, lineterminator="\n")
    writer.writerow(names)
    count = 0
    for record in _records(rows, names):
        writer.writerow(record)
        count += 1
    return count


def write_json(
    rows: Iterable[Mapping[str, Any]] | Documents,
    file: TextIO,
    columns: Iterable[str] = COLUMNS,
    *,
    lines: bool = False,
) -> int:
    """Write a JSON array of row objects (``lines=True``: one object per line, JSON Lines);
    returns the number of rows. NaN values become ``null``."""
    names = tuple(columns)
    numbers = [names.index(name) for name in ("value", "price") if name in names]
    encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode
    count = 0
    file.write("" if lines else "[")
    for record in _records(rows, names):
        for at in numbers:
            value = record[at]
            if isinstance(value, float) and not math.isfinite(value):
                record[at] = None
        if lines:
            file.write(encode(dict(zip(names, record, strict=True))) + "\n")
        else:
            file.write((",\n" if count else "\n") + encode(dict(zip(names, record, strict=True))))
        count += 1
    if not lines:
        file.write("\n]\n" if count else "]\n")
    return count


def to_dataframe(docs: Documents) -> pandas.DataFrame:
    """A ``pandas.DataFrame`` with ``COLUMNS``; ``timestamp`` and ``end`` are UTC datetimes.

    Needs the optional pandas extra: ``pip install 'entsoe-client[pandas]'``."""
    try:
        import pandas as pd
    except ImportError as exc:
        raise ImportError(_PANDAS_HINT) from exc

    columns: dict[str, list[Any]] = {name: [] for name in COLUMNS}
    for document in _documents(docs):
        for series in document.series:
            points = series.points
            count = len(points)
            if not count:
                continue
            base = _series_base(document, series)
            for name in COLUMNS:
                columns[name].extend([base[name]] * count)
            offset = len(columns["timestamp"]) - count
            columns["timestamp"][offset:] = [p.start for p in points]
            columns["end"][offset:] = [p.end for p in points]
            columns["value"][offset:] = [p.value for p in points]
            columns["price"][offset:] = [p.price for p in points]
            columns["position"][offset:] = [p.position for p in points]
    frame = pd.DataFrame(columns, columns=list(COLUMNS))
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    frame["end"] = pd.to_datetime(frame["end"], utc=True)
    frame["value"] = frame["value"].astype("float64")
    frame["price"] = frame["price"].astype("float64")
    frame["classification_sequence"] = frame["classification_sequence"].astype("Int64")
    return frame
