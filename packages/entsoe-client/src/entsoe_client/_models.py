"""Typed results of the ENTSO-E Transparency Platform.

Every timestamp is an aware ``datetime`` in UTC. A point covers ``[start, end)``; for day and
longer resolutions (P1D, P7D, P1M, P1Y) ``end`` is the next local midnight of the market's
calendar, never a fixed number of seconds, and the last point of a Period ends at the Period's
end. Values are floats exactly as the platform wrote them (``float(text)``), so the
decimal text round-trips through ``repr``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Point:
    """One interval of a series: the value holds from ``start`` (inclusive) to ``end``."""

    start: datetime
    end: datetime
    value: float
    """The quantity, or the price when the Point carries only a price."""
    position: int
    price: float | None = None
    """The Point's price (``price.amount``, ``imbalance_Price.amount``, ...) when it has one.
    A Point with a quantity and a price (A25 explicit allocations, B05) keeps both."""


@dataclass(frozen=True, slots=True)
class TimeSeries:
    """One ``TimeSeries`` element with its Periods flattened into points in time order.

    All points share ``resolution``: a ``TimeSeries`` element whose Periods differ in
    resolution becomes one ``TimeSeries`` per resolution (same ``mrid``), so every point is
    keyed by its own Period's resolution.

    A03 curves are already forward-filled: a position the platform omitted because its value
    repeats is present here with the repeated value, up to the Period's end.
    """

    mrid: str
    business_type: str | None
    curve_type: str
    resolution: str
    points: list[Point]
    in_domain: str | None = None
    out_domain: str | None = None
    bidding_zone: str | None = None
    unit: str | None = None
    currency: str | None = None
    price_unit: str | None = None
    psr_type: str | None = None
    classification_sequence: int | None = None
    object_aggregation: str | None = None
    resolutions: tuple[str, ...] = ()
    """``(resolution,)``; kept for readers of the earlier shape (a series mixing resolutions
    is split, see above)."""
    registered_resource: str | None = None
    """The unit, line or resource the series is about: for generation per unit the generating
    unit (``MktPSRType/PowerSystemResources``), else ``registeredResource`` (outages, ...)."""
    flow_direction: str | None = None
    """``flowDirection.direction`` of balancing series: A01 up, A02 down, A03 symmetric."""
    contract_type: str | None = None
    """``contract_MarketAgreement.type`` (or ``type_MarketAgreement.type``): A01 day-ahead, ..."""
    price_category: str | None = None
    """``imbalance_Price.category`` of imbalance prices (A85): A04 excess balance (long), A05
    insufficient balance (short). The platform sends the two prices of a quarter-hour as two
    series that differ only by this code on their Points; read from the series' first Point."""


@dataclass(frozen=True, slots=True)
class MarketDocument:
    """A GL_MarketDocument, Publication_MarketDocument or similar answer with its series."""

    mrid: str
    revision_number: int
    created_at: datetime | None
    document_type: str
    process_type: str | None
    period_start: datetime | None
    period_end: datetime | None
    root_element: str
    series: list[TimeSeries] = field(default_factory=list)
    domain: str | None = None
    """Document-level area (``area_Domain``, ``controlArea_Domain`` or ``domain`` mRID) of
    balancing and reserve documents, whose series carry no domain of their own."""
    doc_status: str | None = None
    """``docStatus`` when present (A05 active, A09 cancelled, A13 withdrawn ...)."""
    warnings: tuple[str, ...] = ()
    """What the parser dropped or had to assume, one sentence each: positions beyond their
    Period's end (dropped, counted), a Period whose market time zone could not be told (its
    days stepped in UTC). The CLI prints them on stderr."""


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """An Acknowledgement_MarketDocument: the platform's way to say no (or "no data")."""

    mrid: str | None
    created_at: datetime | None
    reason_code: str | None
    reason_text: str

    @property
    def is_no_data(self) -> bool:
        """True for "No matching data found" (reason 999 with that text): an empty result."""
        text = self.reason_text.lower()
        return "no matching data" in text or (self.reason_code == "999" and "no data" in text)
