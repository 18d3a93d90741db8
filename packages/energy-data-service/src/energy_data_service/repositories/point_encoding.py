"""A batch of ``EnergyPoint`` → the rows of ``points``, at C speed (measured: ``bench/ingest.py``).

Turning a year of points (35,040) into ``(series_id, start, value, price, end, fetch_id,
known_from)`` rows costs more than SQLite's whole upsert if done point by point in Python. The
batch is transposed into columns once; a column that holds one value throughout (a batch is
usually one series of one document) is answered by a single lookup instead of one per point,
and the rows are zipped back together in C.

Two encodings of the same rows: ``rows`` with times as integer epoch seconds (SQLite's
columns, PostgreSQL's staging table), ``copy_records`` with times as aware datetimes (what a
binary COPY straight into PostgreSQL's ``timestamptz`` columns takes; the points' own
datetimes are passed through untouched when they are whole seconds, which they are).
``rows_plain`` and ``copy_records_plain`` are the obvious per-point versions, kept as the
references the tests compare against.

``prepare`` and ``rows`` are synchronous and allocate a few objects per point, so they run
with the cyclic garbage collector paused (``cyclic_gc_paused``); no ``await`` happens in
between. ``copy_records`` is lazy: the COPY makes its records as it sends them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import groupby, repeat
from operator import attrgetter, itemgetter
from typing import Any, TypeVar

from service_common import cyclic_gc_paused

from energy_data_service.db.tables import SERIES_IDENTITY
from energy_data_service.domain import EnergyPoint

_FIELD = {name: index for index, name in enumerate(EnergyPoint._fields)}
_IDENTITY_FIELDS = [_FIELD[name] for name in SERIES_IDENTITY]
_PROVENANCE = ("document_mrid", "revision_number", "document_created_at", "fetched_at")
_PROVENANCE_FIELDS = [_FIELD[name] for name in _PROVENANCE]
_IDENTITY = itemgetter(*_IDENTITY_FIELDS)
_PROVENANCE_OF = itemgetter(*_PROVENANCE_FIELDS)
_TIMESTAMP = datetime.timestamp

SeriesIdentity = tuple[Any, ...]
"""The values of ``SERIES_IDENTITY`` of one series."""
Provenance = tuple[str, int, datetime | None, datetime]
_Known = TypeVar("_Known", int, datetime)
"""document mRID, revision number, createdDateTime, fetch time of one fetched document."""


@dataclass(slots=True)
class SeriesSpan:
    """What one batch says about one series: its description and the span it covers."""

    unit: str
    curve_type: str
    first: datetime
    last: datetime
    first_fetched: datetime
    last_fetched: datetime

    def widen(self, other: SeriesSpan) -> None:
        """Take in another run of the same series."""
        self.first, self.last = min(self.first, other.first), max(self.last, other.last)
        self.first_fetched = min(self.first_fetched, other.first_fetched)
        self.last_fetched = max(self.last_fetched, other.last_fetched)


@dataclass(slots=True)
class PreparedBatch:
    """A batch transposed: its distinct series and documents, and each point's of both."""

    columns: list[tuple[Any, ...]]
    series: dict[SeriesIdentity, SeriesSpan]
    documents: list[Provenance]
    series_of: list[SeriesIdentity] | None
    """Each point's series, or ``None`` when the whole batch is one series."""
    document_of: list[Provenance] | None
    """Each point's document, or ``None`` when the whole batch is one document."""

    def __len__(self) -> int:
        return len(self.columns[0])


def _uniform(column: tuple[Any, ...]) -> bool:
    return column.count(column[0]) == len(column)


def prepare(points: list[EnergyPoint]) -> PreparedBatch:
    """Transpose ``points`` (non-empty) and find its series and documents."""
    with cyclic_gc_paused():
        columns: list[tuple[Any, ...]] = list(zip(*points, strict=True))
        timestamps = columns[_FIELD["timestamp"]]
        fetched = columns[_FIELD["fetched_at"]]
        units, curves = columns[_FIELD["unit"]], columns[_FIELD["curve_type"]]
        series: dict[SeriesIdentity, SeriesSpan] = {}
        series_of: list[SeriesIdentity] | None = None
        if all(_uniform(columns[i]) for i in _IDENTITY_FIELDS):
            runs: Iterable[tuple[SeriesIdentity, int, int]] = [
                (_IDENTITY(points[0]), 0, len(points))
            ]
        else:
            series_of = list(map(_IDENTITY, points))
            runs = _runs(series_of)
        for key, begin, end in runs:
            span = SeriesSpan(
                units[begin],
                curves[begin],
                min(timestamps[begin:end]),
                max(timestamps[begin:end]),
                min(fetched[begin:end]),
                max(fetched[begin:end]),
            )
            known = series.get(key)
            if known is None:
                series[key] = span
            else:
                known.widen(span)
        document_of: list[Provenance] | None = None
        if all(_uniform(columns[i]) for i in _PROVENANCE_FIELDS):
            documents = [_PROVENANCE_OF(points[0])]
        else:
            document_of = list(map(_PROVENANCE_OF, points))
            documents = list(dict.fromkeys(document_of))
    return PreparedBatch(columns, series, documents, series_of, document_of)


def _runs(keys: list[SeriesIdentity]) -> Iterable[tuple[SeriesIdentity, int, int]]:
    begin = 0
    for key, run in groupby(keys):
        end = begin + sum(1 for _ in run)
        yield key, begin, end
        begin = end


def known_from(fetched: datetime) -> int:
    """Epoch seconds of a fetch, rounded up: a value never counts as known before it was
    fetched (as-of reads resolve to whole seconds)."""
    seconds = fetched.timestamp()
    return math.ceil(seconds) if fetched.microsecond else int(seconds)


def _key_columns(
    batch: PreparedBatch,
    series_ids: dict[SeriesIdentity, int],
    fetch_ids: dict[Provenance, int],
    known: Callable[[datetime], _Known],
) -> tuple[Iterable[int], Iterable[int], Iterable[_Known]]:
    """The series id, fetch id and known-from columns shared by ``rows`` and ``copy_records``:
    repeated constants when the batch is one series or one document, else looked up per row."""
    count = len(batch)
    if batch.series_of is None:
        (only,) = batch.series
        series_column: Iterable[int] = repeat(series_ids[only], count)
    else:
        series_column = map(series_ids.__getitem__, batch.series_of)
    if batch.document_of is None:
        (document,) = batch.documents
        fetch_column: Iterable[int] = repeat(fetch_ids[document], count)
        known_column: Iterable[_Known] = repeat(known(document[3]), count)
    else:
        known_of = {d: known(d[3]) for d in batch.documents}
        fetch_column = map(fetch_ids.__getitem__, batch.document_of)
        known_column = map(known_of.__getitem__, batch.document_of)
    return series_column, fetch_column, known_column


def rows(
    batch: PreparedBatch,
    series_ids: dict[SeriesIdentity, int],
    fetch_ids: dict[Provenance, int],
) -> list[tuple[Any, ...]]:
    """The ``points`` rows of the batch, times as epoch seconds."""
    with cyclic_gc_paused():
        columns = batch.columns
        series_column, fetch_column, known_column = _key_columns(
            batch, series_ids, fetch_ids, known_from
        )
        ends: Iterable[Any] = columns[_FIELD["end"]]
        if any(ends):
            ends = [None if end is None else int(end.timestamp()) for end in ends]
        return list(
            zip(
                series_column,
                map(int, map(_TIMESTAMP, columns[_FIELD["timestamp"]])),
                columns[_FIELD["value"]],
                columns[_FIELD["price"]],
                ends,
                fetch_column,
                known_column,
                strict=True,
            )
        )


def copy_records(
    batch: PreparedBatch,
    series_ids: dict[SeriesIdentity, int],
    fetch_ids: dict[Provenance, int],
) -> Iterator[tuple[Any, ...]]:
    """The same rows as ``rows`` with times as aware datetimes (a COPY into ``points``).

    One pass, made as the COPY reads it: the driver encodes each record as it takes it, so no
    list of the batch's tuples is built first (measured: ``bench/ingest.py``, about 8% of the
    upsert of 100k new points on PostgreSQL). Nothing is allocated per point before the COPY
    starts, so the collector needs no pause here (the COPY awaits)."""
    columns = batch.columns
    series_column, fetch_column, known_column = _key_columns(
        batch, series_ids, fetch_ids, _known_moment
    )
    starts: Iterable[datetime] = columns[_FIELD["timestamp"]]
    if any(map(_MICROSECOND, starts)):
        starts = map(_whole_second, starts)
    ends: Iterable[Any] = columns[_FIELD["end"]]
    if any(ends):
        ends = map(_whole_second_or_none, ends)
    return zip(
        series_column,
        starts,
        columns[_FIELD["value"]],
        columns[_FIELD["price"]],
        ends,
        fetch_column,
        known_column,
        strict=True,
    )


_MICROSECOND = attrgetter("microsecond")


def _whole_second(moment: datetime) -> datetime:
    """``moment`` cut to its epoch second as ``rows`` cuts it (``int(timestamp)``), in UTC."""
    return datetime.fromtimestamp(int(moment.timestamp()), UTC)


def _whole_second_or_none(moment: datetime | None) -> datetime | None:
    return None if moment is None else _whole_second(moment)


def _known_moment(fetched: datetime) -> datetime:
    return datetime.fromtimestamp(known_from(fetched), UTC)


def rows_plain(
    points: list[EnergyPoint],
    series_ids: dict[SeriesIdentity, int],
    fetch_ids: dict[Provenance, int],
) -> list[tuple[Any, ...]]:
    """The reference: the same rows, one point at a time."""
    return [
        (
            series_ids[tuple(getattr(p, name) for name in SERIES_IDENTITY)],
            int(p.timestamp.timestamp()),
            p.value,
            p.price,
            None if p.end is None else int(p.end.timestamp()),
            fetch_ids[(p.document_mrid, p.revision_number, p.document_created_at, p.fetched_at)],
            math.ceil(p.fetched_at.timestamp()),
        )
        for p in points
    ]


def copy_records_plain(
    points: list[EnergyPoint],
    series_ids: dict[SeriesIdentity, int],
    fetch_ids: dict[Provenance, int],
) -> list[tuple[Any, ...]]:
    """The reference of ``copy_records``: ``rows_plain`` with every time made a datetime."""
    return [
        (
            series_id,
            datetime.fromtimestamp(start, UTC),
            value,
            price,
            None if end is None else datetime.fromtimestamp(end, UTC),
            fetch_id,
            datetime.fromtimestamp(known, UTC),
        )
        for series_id, start, value, price, end, fetch_id, known in rows_plain(
            points, series_ids, fetch_ids
        )
    ]
