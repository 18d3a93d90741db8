"""The platform's areas: coverage, facts about kinds, EIC codes, lookup."""

from __future__ import annotations

import string
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from entsoe_client import Area, AreaKind, InvalidQueryError, UnknownAreaError

EIC_CHARS = string.digits + string.ascii_uppercase + "-"


def eic_check_character(code: str) -> str:
    """The EIC check character (16th) computed from the first 15 (ENTSO-E EIC reference)."""
    total = sum(EIC_CHARS.index(char) * (16 - i) for i, char in enumerate(code[:15]))
    return EIC_CHARS[36 - ((total - 1) % 37)]


def test_coverage_is_the_platforms_area_list() -> None:
    assert len(Area) >= 110
    assert len(Area.__members__) == len(Area) + 2  # LU_BZN and NIE are aliases


def test_every_area_is_well_formed() -> None:
    for area in Area:
        assert area.short_name == area.name
        assert area.short_name.replace("_", "").isalnum()
        assert area.display_name
        assert area.kinds
        assert all(isinstance(kind, AreaKind) for kind in area.kinds)
        assert isinstance(area.time_zone, ZoneInfo)
        assert area.time_zone.key == area.tz_name
        assert area.eic == area.value
        if area is not Area.IS:  # the platform codes Iceland "IS"
            assert len(area.eic) == 16, area
            assert eic_check_character(area.eic) == area.eic[15], area


def test_entsoe_py_short_names_and_codes_are_all_here() -> None:
    mappings = pytest.importorskip("entsoe.mappings")
    for theirs in mappings.Area:
        ours = Area.lookup(theirs.name)
        assert ours.eic == theirs.code, theirs.name
    # and their aliases resolve to the canonical member, as here
    assert Area.lookup("LU_BZN") is Area.DE_LU


@pytest.mark.parametrize(
    ("area", "is_kinds", "is_not_kinds"),
    [
        (Area.DE_LU, {AreaKind.BIDDING_ZONE}, {AreaKind.CONTROL_AREA, AreaKind.COUNTRY}),
        (Area.DE_TENNET, {AreaKind.CONTROL_AREA}, {AreaKind.BIDDING_ZONE, AreaKind.COUNTRY}),
        (Area.DE_50HZ, {AreaKind.CONTROL_AREA}, {AreaKind.BIDDING_ZONE}),
        (Area.DE, {AreaKind.COUNTRY}, {AreaKind.BIDDING_ZONE, AreaKind.CONTROL_AREA}),
        (Area.DE_AT_LU, {AreaKind.BIDDING_ZONE}, {AreaKind.COUNTRY}),
        (
            Area.FR,
            {AreaKind.BIDDING_ZONE, AreaKind.CONTROL_AREA, AreaKind.COUNTRY},
            {AreaKind.REGION},
        ),
        (Area.NL, {AreaKind.BIDDING_ZONE, AreaKind.CONTROL_AREA, AreaKind.COUNTRY}, set()),
        (Area.IT, {AreaKind.COUNTRY, AreaKind.CONTROL_AREA}, {AreaKind.BIDDING_ZONE}),
        (Area.IT_NORD, {AreaKind.BIDDING_ZONE}, {AreaKind.COUNTRY}),
        (Area.SE_3, {AreaKind.BIDDING_ZONE}, {AreaKind.COUNTRY}),
        (Area.SE, {AreaKind.COUNTRY, AreaKind.CONTROL_AREA}, {AreaKind.BIDDING_ZONE}),
        (Area.GB, {AreaKind.BIDDING_ZONE, AreaKind.CONTROL_AREA}, {AreaKind.COUNTRY}),
        (Area.UK, {AreaKind.COUNTRY}, {AreaKind.BIDDING_ZONE}),
        (Area.LU, {AreaKind.COUNTRY, AreaKind.CONTROL_AREA}, {AreaKind.BIDDING_ZONE}),
        (Area.CWE, {AreaKind.REGION}, {AreaKind.BIDDING_ZONE}),
        (Area.CONTINENTAL_EUROPE, {AreaKind.SYNCHRONOUS_AREA}, {AreaKind.BIDDING_ZONE}),
    ],
)
def test_kinds_are_factual(
    area: Area, is_kinds: set[AreaKind], is_not_kinds: set[AreaKind]
) -> None:
    assert is_kinds <= area.kinds
    assert not (is_not_kinds & area.kinds)


def test_time_zones() -> None:
    assert Area.DE_LU.tz_name == "Europe/Berlin"
    assert Area.GB.tz_name == "Europe/London"
    assert Area.PT.tz_name == "Europe/Lisbon"
    assert Area.FI.tz_name == "Europe/Helsinki"
    midnight = datetime(2024, 3, 31, tzinfo=Area.NL.time_zone)
    assert midnight.utcoffset() is not None
    assert midnight.utcoffset().total_seconds() == 3600  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "area"),
    [
        ("DE_LU", Area.DE_LU),
        ("de_lu", Area.DE_LU),
        ("de-lu", Area.DE_LU),
        (" fr ", Area.FR),
        ("10YNL----------L", Area.NL),
        ("10ynl----------l", Area.NL),
        ("10Y1001A1001A82H", Area.DE_LU),  # shared by DE_LU and LU_BZN: the canonical one
        ("LU_BZN", Area.DE_LU),
        ("10Y1001A1001A016", Area.GB_NIR),  # shared by GB_NIR and NIE
        ("NIE", Area.GB_NIR),
        ("10Y1001A1001A63L", Area.DE_AT_LU),
        ("IS", Area.IS),
    ],
)
def test_lookup(text: str, area: Area) -> None:
    assert Area.lookup(text) is area


def test_lookup_accepts_an_area() -> None:
    assert Area.lookup(Area.FR) is Area.FR


def test_value_lookup_and_from_eic() -> None:
    assert Area("10YFR-RTE------C") is Area.FR
    assert Area.from_eic("10YFR-RTE------C") is Area.FR
    assert Area.from_eic("10Y-UNKNOWN") is None


def test_unknown_area_lists_close_matches() -> None:
    with pytest.raises(UnknownAreaError) as caught:
        Area.lookup("DE_LUX")
    error = caught.value
    assert "DE_LU" in error.suggestions
    assert "DE_LU" in str(error)
    assert error.name == "DE_LUX"
    assert isinstance(error, InvalidQueryError)
    assert isinstance(error, ValueError)
    assert isinstance(error, LookupError)


def test_unknown_area_by_display_name_suggests_it() -> None:
    with pytest.raises(UnknownAreaError) as caught:
        Area.lookup("Germny")
    assert "DE" in caught.value.suggestions


def test_unknown_area_without_any_match() -> None:
    with pytest.raises(UnknownAreaError, match="Unknown area 'qqqq'") as caught:
        Area.lookup("qqqq")
    assert caught.value.suggestions == []
