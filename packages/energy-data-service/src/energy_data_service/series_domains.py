"""Which platform domains a stored series came from, told by its data type and areas.

The store keeps a series' area (where the energy goes, or the zone it is about) and, for
directional data, the other area. Readers that print what ``entsoe parse`` prints (``area``,
``in_domain``, ``out_domain``) turn them back into the document's domains with the one rule of
each family:

- load and forecast margin: ``outBiddingZone_Domain`` is the zone;
- day-ahead prices: ``in_Domain`` and ``out_Domain`` are both the zone;
- generation: ``inBiddingZone_Domain`` is the zone; a consumption series (stored with its own
  area as the other area) has ``outBiddingZone_Domain`` instead;
- transmission and net positions: ``in_Domain`` is the area, ``out_Domain`` the other area;
- balancing: the document's area, no series domain.
"""

from __future__ import annotations

from typing import NamedTuple

from entsoe_client import PLATFORM_TABLE, DataType

_LOAD_DOCUMENTS = frozenset({"A65", "A70"})
_GENERATION_DOCUMENTS = frozenset({"A68", "A69", "A71", "A72", "A73", "A75"})
_BALANCING_DOCUMENTS = frozenset({"A81", "A84", "A85", "A86", "A89"})


class Domains(NamedTuple):
    """``area`` (the zone a series is about, as ``entsoe parse`` prints it), in and out domain."""

    area: str | None
    in_domain: str | None
    out_domain: str | None


def _document_type(data_type: str) -> str | None:
    try:
        return PLATFORM_TABLE[DataType(data_type)].document_type
    except ValueError:
        return None


def series_domains(data_type: str, area_code: str, out_area_code: str = "") -> Domains:
    """The domains a series of ``data_type`` stored under these areas was published with."""
    document_type = _document_type(data_type)
    if document_type in _LOAD_DOCUMENTS:
        return Domains(area_code, None, area_code)
    if document_type in _GENERATION_DOCUMENTS:
        if out_area_code == area_code:
            return Domains(area_code, None, area_code)
        return Domains(area_code, area_code, None)
    if document_type in _BALANCING_DOCUMENTS:
        return Domains(area_code, None, None)
    if out_area_code and out_area_code != area_code:
        return Domains(None, area_code, out_area_code)
    return Domains(area_code, area_code, area_code)


def is_consumption(data_type: str, area_code: str, out_area_code: str) -> bool:
    """A generation document's consumption series (pumped storage pumping, …)."""
    return _document_type(data_type) in _GENERATION_DOCUMENTS and out_area_code == area_code


def is_directional(data_type: str) -> bool:
    """True for data that flows from one area into another (asked with ``out_area``)."""
    try:
        return PLATFORM_TABLE[DataType(data_type)].out_area_param is not None
    except ValueError:
        return False
