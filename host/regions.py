"""Countries, provinces and states the shops may be in, with the time zone of each."""

from __future__ import annotations

COUNTRIES = {"CA": "Canada", "US": "United States"}

# One time zone per province or state: the one most of its population lives in.
PROVINCES: dict[str, dict[str, tuple[str, str]]] = {
    "CA": {
        "AB": ("Alberta", "America/Edmonton"),
        "BC": ("British Columbia", "America/Vancouver"),
        "MB": ("Manitoba", "America/Winnipeg"),
        "NB": ("New Brunswick", "America/Moncton"),
        "NL": ("Newfoundland and Labrador", "America/St_Johns"),
        "NS": ("Nova Scotia", "America/Halifax"),
        "NT": ("Northwest Territories", "America/Yellowknife"),
        "NU": ("Nunavut", "America/Iqaluit"),
        "ON": ("Ontario", "America/Toronto"),
        "PE": ("Prince Edward Island", "America/Halifax"),
        "QC": ("Quebec", "America/Toronto"),
        "SK": ("Saskatchewan", "America/Regina"),
        "YT": ("Yukon", "America/Whitehorse"),
    },
    "US": {
        "AL": ("Alabama", "America/Chicago"),
        "AK": ("Alaska", "America/Anchorage"),
        "AZ": ("Arizona", "America/Phoenix"),
        "AR": ("Arkansas", "America/Chicago"),
        "CA": ("California", "America/Los_Angeles"),
        "CO": ("Colorado", "America/Denver"),
        "CT": ("Connecticut", "America/New_York"),
        "DE": ("Delaware", "America/New_York"),
        "DC": ("District of Columbia", "America/New_York"),
        "FL": ("Florida", "America/New_York"),
        "GA": ("Georgia", "America/New_York"),
        "HI": ("Hawaii", "Pacific/Honolulu"),
        "ID": ("Idaho", "America/Boise"),
        "IL": ("Illinois", "America/Chicago"),
        "IN": ("Indiana", "America/Indiana/Indianapolis"),
        "IA": ("Iowa", "America/Chicago"),
        "KS": ("Kansas", "America/Chicago"),
        "KY": ("Kentucky", "America/New_York"),
        "LA": ("Louisiana", "America/Chicago"),
        "ME": ("Maine", "America/New_York"),
        "MD": ("Maryland", "America/New_York"),
        "MA": ("Massachusetts", "America/New_York"),
        "MI": ("Michigan", "America/Detroit"),
        "MN": ("Minnesota", "America/Chicago"),
        "MS": ("Mississippi", "America/Chicago"),
        "MO": ("Missouri", "America/Chicago"),
        "MT": ("Montana", "America/Denver"),
        "NE": ("Nebraska", "America/Chicago"),
        "NV": ("Nevada", "America/Los_Angeles"),
        "NH": ("New Hampshire", "America/New_York"),
        "NJ": ("New Jersey", "America/New_York"),
        "NM": ("New Mexico", "America/Denver"),
        "NY": ("New York", "America/New_York"),
        "NC": ("North Carolina", "America/New_York"),
        "ND": ("North Dakota", "America/Chicago"),
        "OH": ("Ohio", "America/New_York"),
        "OK": ("Oklahoma", "America/Chicago"),
        "OR": ("Oregon", "America/Los_Angeles"),
        "PA": ("Pennsylvania", "America/New_York"),
        "RI": ("Rhode Island", "America/New_York"),
        "SC": ("South Carolina", "America/New_York"),
        "SD": ("South Dakota", "America/Chicago"),
        "TN": ("Tennessee", "America/Chicago"),
        "TX": ("Texas", "America/Chicago"),
        "UT": ("Utah", "America/Denver"),
        "VT": ("Vermont", "America/New_York"),
        "VA": ("Virginia", "America/New_York"),
        "WA": ("Washington", "America/Los_Angeles"),
        "WV": ("West Virginia", "America/New_York"),
        "WI": ("Wisconsin", "America/Chicago"),
        "WY": ("Wyoming", "America/Denver"),
    },
}


def time_zone(country: str | None, province: str | None) -> str | None:
    """Return the IANA time zone of ``province`` in ``country``, or ``None`` if unknown."""
    entry = PROVINCES.get(country or "", {}).get(province or "")
    return entry[1] if entry else None


def province_choices(country: str | None) -> list[tuple[str, str]]:
    """Return ``(code, name)`` pairs of the provinces or states of ``country``."""
    return [(code, name) for code, (name, _) in PROVINCES.get(country or "", {}).items()]
