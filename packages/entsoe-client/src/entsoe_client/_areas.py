"""Every area the ENTSO-E Transparency Platform knows: bidding zones, control areas, countries,
regions and the other market areas its queries take.

Members are named by short name (``Area.DE_LU``, ``Area.FR``, ``Area.NL``); the enum value is the
EIC code the platform uses in queries and documents. Kinds follow the platform's own area list
(API guide, appendix "Areas"): ``Area.DE_LU`` is a bidding zone, ``Area.DE_TENNET`` a control
area, ``Area.DE`` a country.

A few short names share one EIC on the platform (``LU_BZN`` is the DE-LU bidding zone;
``NIE`` is the SONI control area ``GB_NIR``). They are enum aliases: ``Area.LU_BZN is
Area.DE_LU``, and looking an EIC up always gives the canonical member.

    >>> Area.lookup("de-lu") is Area.lookup("10Y1001A1001A82H") is Area.DE_LU
    True
"""

from __future__ import annotations

import difflib
from enum import Enum, StrEnum
from functools import cached_property
from zoneinfo import ZoneInfo

from entsoe_client._exceptions import UnknownAreaError

__all__ = ["Area", "AreaKind"]


class AreaKind(StrEnum):
    """What an area is on the platform; the value is the platform's abbreviation."""

    BIDDING_ZONE = "BZN"
    BIDDING_ZONE_AGGREGATION = "BZA"
    CONTROL_AREA = "CTA"
    COUNTRY = "CTY"
    MARKET_BALANCE_AREA = "MBA"
    SCHEDULING_AREA = "SCA"
    IMBALANCE_AREA = "IBA"
    IMBALANCE_PRICE_AREA = "IPA"
    LOAD_FREQUENCY_CONTROL_AREA = "LFA"
    LOAD_FREQUENCY_CONTROL_BLOCK = "LFB"
    REGION = "REG"
    SYNCHRONOUS_AREA = "SNA"


def _kinds(codes: str) -> frozenset[AreaKind]:
    return frozenset(AreaKind(code) for code in codes.split())


class Area(Enum):
    """An area of the platform: ``Area.DE_LU.eic == "10Y1001A1001A82H"``."""

    eic: str
    display_name: str
    tz_name: str
    kinds: frozenset[AreaKind]

    def __new__(cls, eic: str, display_name: str, tz_name: str, kinds: str) -> Area:
        obj = object.__new__(cls)
        obj._value_ = eic
        return obj

    def __init__(self, eic: str, display_name: str, tz_name: str, kinds: str) -> None:
        self.eic = eic
        self.display_name = display_name
        self.tz_name = tz_name
        self.kinds = _kinds(kinds)

    # Short name       EIC                 Display name                        IANA zone       Kinds
    AL = "10YAL-KESH-----5", "Albania", "Europe/Tirane", "BZN CTA CTY MBA SCA LFA LFB"
    AM = "10Y1001A1001B004", "Armenia", "Asia/Yerevan", "BZN CTA CTY"
    AT = "10YAT-APG------L", "Austria", "Europe/Vienna", "BZN CTA CTY MBA SCA IPA LFA LFB"
    AZ = "10Y1001A1001B05V", "Azerbaijan", "Asia/Baku", "BZN CTA CTY"
    BA = "10YBA-JPCC-----D", "Bosnia and Herzegovina", "Europe/Sarajevo", "BZN CTA CTY MBA SCA LFA"
    BE = "10YBE----------2", "Belgium", "Europe/Brussels", "BZN CTA CTY MBA SCA LFA LFB"
    BG = "10YCA-BULGARIA-R", "Bulgaria", "Europe/Sofia", "BZN CTA CTY MBA SCA LFA LFB"
    BY = "10Y1001A1001A51S", "Belarus", "Europe/Minsk", "BZN CTA MBA SCA"
    CH = "10YCH-SWISSGRIDZ", "Switzerland", "Europe/Zurich", "BZN CTA CTY MBA SCA LFA LFB"
    CY = "10YCY-1001A0003J", "Cyprus", "Asia/Nicosia", "BZN CTA CTY MBA SCA"
    CZ = "10YCZ-CEPS-----N", "Czechia", "Europe/Prague", "BZN CTA CTY MBA SCA LFA LFB"
    DE = "10Y1001A1001A83F", "Germany", "Europe/Berlin", "CTY"
    DE_50HZ = "10YDE-VE-------2", "Germany, 50Hertz", "Europe/Berlin", "CTA SCA LFA BZA"
    DE_AMPRION = "10YDE-RWENET---I", "Germany, Amprion", "Europe/Berlin", "CTA SCA LFA"
    DE_AMP_LU = "10Y1001C--00002H", "Amprion LU control area", "Europe/Berlin", "CTA"
    DE_AT_LU = "10Y1001A1001A63L", "Germany-Austria-Luxembourg (to 2018)", "Europe/Berlin", "BZN"
    DE_DK1_LU = "10YCB-GERMANY--8", "DE-DK1-LU (LFC block)", "Europe/Berlin", "SCA LFB"
    DE_LU = "10Y1001A1001A82H", "Germany-Luxembourg", "Europe/Berlin", "BZN IPA MBA SCA"
    DE_TENNET = "10YDE-EON------1", "Germany, TenneT", "Europe/Berlin", "CTA SCA LFA"
    DE_TRANSNET = "10YDE-ENBW-----N", "Germany, TransnetBW", "Europe/Berlin", "CTA SCA LFA"
    DK = "10Y1001A1001A65H", "Denmark", "Europe/Copenhagen", "CTY"
    DK_1 = "10YDK-1--------W", "Denmark DK1", "Europe/Copenhagen", "BZN MBA SCA IBA IPA LFA"
    DK_1A = "10YDK-1-------AA", "Denmark DK1A", "Europe/Copenhagen", "BZN"
    DK_1_NO_1 = "46Y000000000007M", "DK1-NO1", "Europe/Copenhagen", "BZN"
    DK_2 = "10YDK-2--------M", "Denmark DK2", "Europe/Copenhagen", "BZN MBA SCA IBA IPA LFA"
    DK_CA = "10Y1001A1001A796", "Denmark, Energinet", "Europe/Copenhagen", "CTA"
    EE = "10Y1001A1001A39I", "Estonia", "Europe/Tallinn", "BZN CTA CTY MBA SCA"
    ES = "10YES-REE------0", "Spain", "Europe/Madrid", "BZN CTA CTY MBA SCA LFA LFB"
    FI = "10YFI-1--------U", "Finland", "Europe/Helsinki", "BZN CTA CTY MBA SCA IBA IPA"
    FR = "10YFR-RTE------C", "France", "Europe/Paris", "BZN CTA CTY MBA SCA LFA LFB"
    GB = "10YGB----------A", "Great Britain", "Europe/London", "BZN CTA MBA SCA LFA LFB SNA"
    GB_ELECLINK = "11Y0-0000-0265-K", "GB (ElecLink)", "Europe/London", "BZN"
    GB_IFA = "10Y1001C--00098F", "GB (IFA)", "Europe/London", "BZN"
    GB_IFA2 = "17Y0000009369493", "GB (IFA2)", "Europe/London", "BZN"
    GB_NIR = "10Y1001A1001A016", "Northern Ireland, SONI", "Europe/London", "CTA MBA SCA"
    NIE = "10Y1001A1001A016", "Northern Ireland, SONI", "Europe/London", "CTA MBA SCA"
    GE = "10Y1001A1001B012", "Georgia", "Asia/Tbilisi", "BZN CTA CTY MBA SCA"
    GR = "10YGR-HTSO-----Y", "Greece", "Europe/Athens", "BZN CTA CTY MBA SCA LFA LFB"
    HR = "10YHR-HEP------M", "Croatia", "Europe/Zagreb", "BZN CTA CTY MBA SCA LFA"
    HU = "10YHU-MAVIR----U", "Hungary", "Europe/Budapest", "BZN CTA CTY MBA SCA LFA LFB"
    IE = "10YIE-1001A00010", "Ireland, EirGrid", "Europe/Dublin", "CTA CTY MBA SCA"
    IE_SEM = "10Y1001A1001A59C", "Ireland (SEM)", "Europe/Dublin", "BZN MBA SCA LFB SNA"
    IS = "IS", "Iceland", "Atlantic/Reykjavik", "CTY"
    IT = "10YIT-GRTN-----B", "Italy", "Europe/Rome", "CTA CTY MBA SCA LFA LFB"
    IT_BRNN = "10Y1001A1001A699", "Italy, Brindisi", "Europe/Rome", "BZN MBA SCA"
    IT_CALA = "10Y1001C--00096J", "Italy, Calabria", "Europe/Rome", "BZN MBA SCA"
    IT_CNOR = "10Y1001A1001A70O", "Italy, Centre-North", "Europe/Rome", "BZN MBA SCA"
    IT_CSUD = "10Y1001A1001A71M", "Italy, Centre-South", "Europe/Rome", "BZN MBA SCA"
    IT_FOGN = "10Y1001A1001A72K", "Italy, Foggia", "Europe/Rome", "BZN MBA SCA"
    IT_GR = "10Y1001A1001A66F", "Italy-Greece", "Europe/Rome", "BZN"
    IT_MACRO_NORTH = "10Y1001A1001A84D", "Italy, Macrozone North", "Europe/Rome", "MBA SCA"
    IT_MACRO_SOUTH = "10Y1001A1001A85B", "Italy, Macrozone South", "Europe/Rome", "MBA SCA"
    IT_MALTA = "10Y1001A1001A877", "Italy-Malta", "Europe/Rome", "BZN"
    IT_NORD = "10Y1001A1001A73I", "Italy, North", "Europe/Rome", "BZN MBA SCA"
    IT_NORD_AT = "10Y1001A1001A80L", "Italy, North-Austria", "Europe/Rome", "BZN"
    IT_NORD_CH = "10Y1001A1001A68B", "Italy, North-Switzerland", "Europe/Rome", "BZN"
    IT_NORD_FR = "10Y1001A1001A81J", "Italy, North-France", "Europe/Rome", "BZN"
    IT_NORD_SI = "10Y1001A1001A67D", "Italy, North-Slovenia", "Europe/Rome", "BZN"
    IT_PRGP = "10Y1001A1001A76C", "Italy, Priolo", "Europe/Rome", "BZN MBA SCA"
    IT_ROSN = "10Y1001A1001A77A", "Italy, Rossano", "Europe/Rome", "BZN MBA SCA"
    IT_SACO_AC = "10Y1001A1001A885", "Italy, SACO AC", "Europe/Rome", "BZN"
    IT_SACO_DC = "10Y1001A1001A893", "Italy, SACO DC", "Europe/Rome", "BZN SCA"
    IT_SARD = "10Y1001A1001A74G", "Italy, Sardinia", "Europe/Rome", "BZN MBA SCA"
    IT_SICI = "10Y1001A1001A75E", "Italy, Sicily", "Europe/Rome", "BZN MBA SCA"
    IT_SUD = "10Y1001A1001A788", "Italy, South", "Europe/Rome", "BZN MBA SCA"
    LT = "10YLT-1001A0008Q", "Lithuania", "Europe/Vilnius", "BZN CTA CTY MBA SCA"
    LU = "10YLU-CEGEDEL-NQ", "Luxembourg", "Europe/Luxembourg", "CTA CTY"
    LU_BZN = "10Y1001A1001A82H", "Germany-Luxembourg", "Europe/Berlin", "BZN IPA MBA SCA"
    LV = "10YLV-1001A00074", "Latvia", "Europe/Riga", "BZN CTA CTY MBA SCA"
    MD = "10Y1001A1001A990", "Moldova", "Europe/Chisinau", "BZN CTA CTY MBA SCA"
    ME = "10YCS-CG-TSO---S", "Montenegro", "Europe/Podgorica", "BZN CTA CTY MBA SCA LFA"
    MK = "10YMK-MEPSO----8", "North Macedonia", "Europe/Skopje", "BZN CTA CTY MBA SCA LFA"
    MT = "10Y1001A1001A93C", "Malta", "Europe/Malta", "BZN CTA CTY MBA SCA"
    NL = "10YNL----------L", "Netherlands", "Europe/Amsterdam", "BZN CTA CTY MBA SCA LFA LFB"
    NO = "10YNO-0--------C", "Norway", "Europe/Oslo", "CTA CTY MBA SCA"
    NO_1 = "10YNO-1--------2", "Norway NO1", "Europe/Oslo", "BZN MBA SCA IBA IPA"
    NO_1A = "10Y1001A1001A64J", "Norway NO1A", "Europe/Oslo", "BZN"
    NO_2 = "10YNO-2--------T", "Norway NO2", "Europe/Oslo", "BZN MBA SCA IBA IPA"
    NO_2A = "10Y1001C--001219", "Norway NO2A", "Europe/Oslo", "BZN"
    NO_2_NSL = "50Y0JVU59B4JWQCU", "Norway NO2 (North Sea Link)", "Europe/Oslo", "BZN"
    NO_3 = "10YNO-3--------J", "Norway NO3", "Europe/Oslo", "BZN MBA SCA IBA IPA"
    NO_4 = "10YNO-4--------9", "Norway NO4", "Europe/Oslo", "BZN MBA SCA IBA IPA"
    NO_5 = "10Y1001A1001A48H", "Norway NO5", "Europe/Oslo", "BZN MBA SCA IBA IPA"
    PL = "10YPL-AREA-----S", "Poland", "Europe/Warsaw", "BZN BZA CTA CTY MBA SCA LFA"
    PL_CZ = "10YDOM-1001A082L", "Poland-Czechia", "Europe/Warsaw", "BZA CTA"
    PL_LFB = "10YCB-POLAND---Z", "Poland (LFC block)", "Europe/Warsaw", "LFB"
    PT = "10YPT-REN------W", "Portugal", "Europe/Lisbon", "BZN CTA CTY MBA SCA LFA LFB"
    RO = "10YRO-TEL------P", "Romania", "Europe/Bucharest", "BZN CTA CTY MBA SCA LFA LFB"
    RS = "10YCS-SERBIATSOV", "Serbia", "Europe/Belgrade", "BZN CTA CTY MBA SCA LFA"
    RS_MK_ME = "10YCB-JIEL-----9", "RS-MK-ME (LFC block)", "Europe/Belgrade", "LFB"
    RU = "10Y1001A1001A49F", "Russia", "Europe/Moscow", "BZN CTA MBA SCA"
    RU_KGD = "10Y1001A1001A50U", "Russia, Kaliningrad", "Europe/Kaliningrad", "BZN CTA MBA SCA"
    SE = "10YSE-1--------K", "Sweden", "Europe/Stockholm", "CTA CTY MBA SCA"
    SE_1 = "10Y1001A1001A44P", "Sweden SE1", "Europe/Stockholm", "BZN MBA SCA IPA"
    SE_2 = "10Y1001A1001A45N", "Sweden SE2", "Europe/Stockholm", "BZN MBA SCA IPA"
    SE_3 = "10Y1001A1001A46L", "Sweden SE3", "Europe/Stockholm", "BZN MBA SCA IPA"
    SE_4 = "10Y1001A1001A47J", "Sweden SE4", "Europe/Stockholm", "BZN MBA SCA IPA"
    SI = "10YSI-ELES-----O", "Slovenia", "Europe/Ljubljana", "BZN CTA CTY MBA SCA LFA"
    SI_HR_BA = "10YCB-SI-HR-BA-3", "SI-HR-BA (LFC block)", "Europe/Ljubljana", "LFB"
    SK = "10YSK-SEPS-----K", "Slovakia", "Europe/Bratislava", "BZN CTA CTY MBA SCA LFA LFB"
    TR = "10YTR-TEIAS----W", "Turkey", "Europe/Istanbul", "BZN CTA CTY MBA SCA LFA LFB"
    UA = "10Y1001C--00003F", "Ukraine", "Europe/Kyiv", "BZN CTY MBA SCA"
    UA_BEI = (
        "10YUA-WEPS-----0",
        "Ukraine, Burshtyn island",
        "Europe/Kyiv",
        "BZN CTA MBA SCA LFA LFB",
    )
    UA_DOBTPP = "10Y1001A1001A869", "Ukraine, Dobrotvir TPP", "Europe/Kyiv", "BZN CTA SCA"
    UA_IPS = "10Y1001C--000182", "Ukraine, IPS", "Europe/Kyiv", "BZN CTA MBA SCA"
    UK = "10Y1001A1001A92E", "United Kingdom", "Europe/London", "CTY"
    XK = "10Y1001C--00100H", "Kosovo", "Europe/Belgrade", "BZN CTA CTY MBA LFA LFB"
    # Aggregations, regions and synchronous areas
    CZ_DE_SK = "10YDOM-CZ-DE-SKK", "Czechia-Germany-Slovakia", "Europe/Prague", "BZN BZA"
    CZ_DE_SK_LT_SE4 = "10Y1001C--00038X", "CZ-DE-SK-LT-SE4", "Europe/Prague", "BZA"
    LT_SE4 = "10YDOM-PL-SE-LT2", "LT-SE4", "Europe/Vilnius", "BZA"
    CWE = "10YDOM-REGION-1V", "Central West Europe region", "Europe/Brussels", "REG"
    CORE = "10Y1001C--00059P", "Core region", "Europe/Brussels", "REG"
    SWE = "10Y1001C--00095L", "South West Europe region", "Europe/Madrid", "REG"
    ITALY_NORTH = "10Y1001C--00137V", "Italy North region", "Europe/Rome", "REG"
    GRIT = "10Y1001C--00138T", "Greece-Italy region", "Europe/Rome", "REG"
    AFRR = "10Y1001C--00090V", "aFRR platform region", "Europe/Brussels", "REG SCA"
    IN = "10Y1001C--00119X", "Imbalance netting scheduling area", "Europe/Brussels", "SCA"
    NORDIC = "10Y1001A1001A91G", "Nordic", "Europe/Stockholm", "REG SNA LFB"
    CONTINENTAL_EUROPE = "10YEU-CONT-SYNC0", "Continental Europe", "Europe/Brussels", "SNA"

    @property
    def short_name(self) -> str:
        """The member name: ``"DE_LU"``."""
        return self.name

    @cached_property
    def time_zone(self) -> ZoneInfo:
        """The area's local time zone (``ZoneInfo(self.tz_name)``)."""
        return ZoneInfo(self.tz_name)

    def __str__(self) -> str:
        return self.name

    @classmethod
    def lookup(cls, name_or_eic: str | Area) -> Area:
        """The area with this short name (any case, ``-`` or ``_``) or EIC code.

        Raises ``UnknownAreaError`` (a ``ValueError`` and ``LookupError``) listing close matches.
        """
        if isinstance(name_or_eic, Area):
            return name_or_eic
        text = str(name_or_eic).strip()
        by_eic = _BY_EIC.get(text.upper())
        if by_eic is not None:
            return by_eic
        key = text.upper().replace("-", "_").replace(" ", "_")
        by_name = cls.__members__.get(key)
        if by_name is not None:
            return by_name
        # Close matches on short names first, then on display names ("germny" -> DE).
        suggestions = difflib.get_close_matches(key, list(cls.__members__), n=5, cutoff=0.6)
        by_display = {area.display_name.upper(): area.name for area in cls}
        for match in difflib.get_close_matches(text.upper(), list(by_display), n=5, cutoff=0.7):
            if by_display[match] not in suggestions:
                suggestions.append(by_display[match])
        if not suggestions and len(key) >= 2:
            suggestions = [area.name for area in cls if area.name.startswith(key)]
        suggestions = suggestions[:5]
        return _raise_unknown(text, suggestions)

    @classmethod
    def from_eic(cls, eic: str) -> Area | None:
        """The canonical area for an EIC code, or None when the platform code is unknown here."""
        return _BY_EIC.get(eic.strip().upper())


def _raise_unknown(name: str, suggestions: list[str]) -> Area:
    raise UnknownAreaError(name, suggestions)


_BY_EIC: dict[str, Area] = {area.eic.upper(): area for area in Area}
