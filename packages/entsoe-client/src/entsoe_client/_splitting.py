"""Cutting a time range into requests the platform answers, and merging the answers back.

The platform refuses requests that cover too much (one month of load, 100 daily price series, ...),
so a long range becomes consecutive half-open chunks ``[start, end)``. Month limits are counted
as the platform counts them: from the chunk's UTC start by calendar month (2025-04-30T22:00Z may
end at 2025-05-30T22:00Z, so a Brussels May takes two requests); day limits on the area's local
calendar, so a chunk never straddles one more daily price series than allowed, also on DST days.

Merging is where other clients lose or double points: the platform answers whole days or whole
Periods, so the answer to one chunk can hold points of its neighbours. The rule here is simple and
exact: a point belongs to every chunk its interval overlaps (``entsoe_client.overlaps``), and
across answers the same point (same series identity and start) is kept once, from the highest
revision.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from operator import attrgetter, lt

from entsoe_client._models import MarketDocument, Point, TimeSeries

MAX_OFFSET = 4800
"""Highest ``offset`` the platform accepts when it pages documents (pages of 100 up to 4,900)."""


@dataclass(frozen=True, slots=True)
class Span:
    """The longest range one request may cover, on the local calendar."""

    months: int = 0
    days: int = 0

    def __post_init__(self) -> None:
        if self.months < 0 or self.days < 0 or (self.months == 0 and self.days == 0):
            raise ValueError("a span needs a positive number of months or days")

    def __str__(self) -> str:
        if self.months and self.months % 12 == 0:
            n = self.months // 12
            return "1 year" if n == 1 else f"{n} years"
        if self.months:
            return "1 month" if self.months == 1 else f"{self.months} months"
        return "1 day" if self.days == 1 else f"{self.days} days"


def _add_months(local: datetime, months: int) -> datetime:
    """Same wall-clock time ``months`` later, the day clamped to the target month's length."""
    month_index = local.month - 1 + months
    year = local.year + month_index // 12
    month = month_index % 12 + 1
    next_month = datetime(year + (month == 12), month % 12 + 1, 1)
    last_day = (next_month - timedelta(days=1)).day
    return local.replace(year=year, month=month, day=min(local.day, last_day))


def _advance(start_utc: datetime, span: Span, tz: tzinfo) -> datetime:
    """``start`` plus one span, counted on the wall clock of ``tz``, back in UTC."""
    local = start_utc.astimezone(tz).replace(tzinfo=None)
    moved = _add_months(local, span.months) + timedelta(days=span.days)
    return moved.replace(tzinfo=tz).astimezone(UTC)


def span_of_period(text: str) -> Span | None:
    """The ``Span`` of a period the platform names (``P1M``, ``P1Y``, ``P7D``), or None."""
    match = re.fullmatch(r"P(\d+)([DWMY])", text.strip().upper())
    if match is None or int(match.group(1)) == 0:
        return None
    amount, unit = int(match.group(1)), match.group(2)
    if unit in ("D", "W"):
        return Span(days=amount * (7 if unit == "W" else 1))
    return Span(months=amount * (12 if unit == "Y" else 1))


def split_range(
    start: datetime, end: datetime, span: Span, tz: tzinfo = UTC
) -> list[tuple[datetime, datetime]]:
    """Consecutive half-open chunks covering ``[start, end)``, each at most ``span`` long.

    Each chunk ends one span after its own start, so a clamped day (31 January + 1 month =
    29 February) shortens the following chunks instead of letting one exceed the span.
    """
    if start >= end:
        return []
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    chunks: list[tuple[datetime, datetime]] = []
    chunk_start = start
    while chunk_start < end:
        chunk_end = min(_advance(chunk_start, span, tz), end)
        if chunk_end <= chunk_start:  # a wall-clock step into a DST gap; never for real spans
            chunk_end = min(chunk_start + timedelta(hours=1), end)
        chunks.append((chunk_start, chunk_end))
        chunk_start = chunk_end
    return chunks


def halve(start: datetime, end: datetime) -> datetime:
    """The split point of a refused chunk: its middle, on a whole hour when the chunk allows it."""
    middle = start + (end - start) / 2
    on_hour = middle.replace(minute=0, second=0, microsecond=0)
    if start < on_hour < end:
        return on_hour
    on_minute = middle.replace(second=0, microsecond=0)
    return on_minute if start < on_minute < end else middle


def page_offsets(page_size: int = 100, max_offset: int = MAX_OFFSET) -> range:
    """Every ``offset`` value of a paged query, in request order."""
    return range(0, max_offset + 1, page_size)


SeriesKey = tuple[object, ...]


def series_identity(document: MarketDocument, series: TimeSeries) -> SeriesKey:
    """What makes two series from different answers "the same" series.

    ``mRID`` is only the series' index inside one document, so it is not part of it; the
    resolution is, because a zone can publish a PT60M and a PT15M series for the same day. The
    unit (generation per unit), the direction (balancing up/down), the contract type and the
    imbalance price category (long/short) keep series apart that share everything else.
    """
    return (
        document.document_type,
        document.process_type,
        document.domain,
        series.business_type,
        series.in_domain,
        series.out_domain,
        series.bidding_zone,
        series.psr_type,
        series.classification_sequence,
        series.object_aggregation,
        series.resolution,
        series.registered_resource,
        series.flow_direction,
        series.contract_type,
        series.price_category,
    )


def clip_documents(
    documents: Iterable[MarketDocument], start: datetime, end: datetime
) -> list[MarketDocument]:
    """Keep only the points whose interval overlaps ``[start, end)``; drop series left empty.

    A P1Y point for 2024 stays in the answer to March 2024; a PT15M point ending where the
    range starts does not.
    """
    clipped: list[MarketDocument] = []
    for document in documents:
        series = [
            dataclasses.replace(
                ts, points=[p for p in ts.points if p.start < end and p.end > start]
            )
            for ts in document.series
        ]
        series = [ts for ts in series if ts.points]
        if series:
            clipped.append(dataclasses.replace(document, series=series))
    return clipped


def merge_documents(documents: Sequence[MarketDocument]) -> list[MarketDocument]:
    """Drop points already delivered by a document of the same or a higher revision.

    Documents keep their order (time order when given chunk by chunk); each point survives
    once, taken from the highest revision that holds it.
    """
    if _nothing_to_drop(documents):
        return list(documents)
    order = sorted(range(len(documents)), key=lambda i: -documents[i].revision_number)
    seen: set[tuple[SeriesKey, datetime]] = set()
    kept: dict[tuple[int, int], list[Point]] = {}
    for doc_index in order:
        document = documents[doc_index]
        for series_index, series in enumerate(document.series):
            identity = series_identity(document, series)
            points: list[Point] = []
            for point in series.points:
                key = (identity, point.start)
                if key not in seen:
                    seen.add(key)
                    points.append(point)
            kept[doc_index, series_index] = points
    merged: list[MarketDocument] = []
    for doc_index, document in enumerate(documents):
        kept_series = [
            dataclasses.replace(ts, points=kept[doc_index, i])
            for i, ts in enumerate(document.series)
            if kept[doc_index, i]
        ]
        if kept_series:
            merged.append(dataclasses.replace(document, series=kept_series))
    return merged


_START = attrgetter("start")


def _nothing_to_drop(documents: Sequence[MarketDocument]) -> bool:
    """True when merging would return the documents as they are (the usual chunk answer).

    That is: no series identity occurs twice, no document or series is empty, and each
    series' starts strictly increase (so no start repeats). Checked at C speed, without a
    key per point.
    """
    identities = {series_identity(d, ts) for d in documents for ts in d.series}
    if len(identities) != sum(len(d.series) for d in documents):
        return False
    for document in documents:
        if not document.series:
            return False
        for series in document.series:
            starts = list(map(_START, series.points))
            if not starts or not all(map(lt, starts, starts[1:])):
                return False
    return True
