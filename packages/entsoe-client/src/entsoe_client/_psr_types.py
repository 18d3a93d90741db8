"""Production types (``psrType``) the platform uses for generation data, by code and name.

A user may name a production type by its code (``B16``) or its name (``solar``); an unknown one
is refused with the close matches, before anything is sent.
"""

from __future__ import annotations

import difflib
from typing import Final

from entsoe_client._exceptions import InvalidQueryError

PSR_TYPES: Final[dict[str, str]] = {
    "A03": "mixed",
    "A04": "generation",
    "A05": "load",
    "B01": "biomass",
    "B02": "fossil_brown_coal_lignite",
    "B03": "fossil_coal_derived_gas",
    "B04": "fossil_gas",
    "B05": "fossil_hard_coal",
    "B06": "fossil_oil",
    "B07": "fossil_oil_shale",
    "B08": "fossil_peat",
    "B09": "geothermal",
    "B10": "hydro_pumped_storage",
    "B11": "hydro_run_of_river_and_poundage",
    "B12": "hydro_water_reservoir",
    "B13": "marine",
    "B14": "nuclear",
    "B15": "other_renewable",
    "B16": "solar",
    "B17": "waste",
    "B18": "wind_offshore",
    "B19": "wind_onshore",
    "B20": "other",
    "B21": "ac_link",
    "B22": "dc_link",
    "B23": "substation",
    "B24": "transformer",
    "B25": "energy_storage",
}
"""Code → name (the platform's English names, lower case with underscores)."""

_BY_NAME: Final = {name: code for code, name in PSR_TYPES.items()}


def parse_psr_type(value: str) -> str:
    """The code for ``B16``, ``b16`` or ``solar``; an unknown one raises with close matches."""
    text = value.strip()
    if text.upper() in PSR_TYPES:
        return text.upper()
    name = text.lower().replace("-", "_").replace(" ", "_")
    if name in _BY_NAME:
        return _BY_NAME[name]
    choices = [*PSR_TYPES, *_BY_NAME]
    close = difflib.get_close_matches(name, choices, n=3, cutoff=0.6)
    close += difflib.get_close_matches(text.upper(), list(PSR_TYPES), n=3, cutoff=0.6)
    hint = f"did you mean {', '.join(dict.fromkeys(close))}? " if close else ""
    listing = ", ".join(f"{code} {name}" for code, name in PSR_TYPES.items())
    raise InvalidQueryError(f"Unknown production type {value!r}: {hint}valid: {listing}.")
