"""What the catalogue tests compare between `entsoe parse` rows and `energy-data export` rows."""

from __future__ import annotations

COMPARED = (
    "timestamp",
    "end",
    "value",
    "business_type",
    "area",
    "in_domain",
    "out_domain",
    "resolution",
    "psr_type",
    "registered_resource",
    "flow_direction",
)
"""Start, end, value and every part of a series' identity as the platform published it."""


def key_of(row: dict[str, str]) -> tuple[str, ...]:
    """The compared cells of one CSV row; values as floats (``1000.0`` and ``1000`` agree)."""
    return tuple(repr(float(row[c])) if c == "value" else row[c] for c in COMPARED)
