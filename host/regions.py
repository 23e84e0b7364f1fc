"""Countries, provinces and states the shops may be in, with the time zone of each.

Names are lazy translations: they read in the reader's language when shown ("Québec",
"Colombie-Britannique", "Californie", "États-Unis": issue 12 point 1); codes and zones are
what is stored and computed with."""

from __future__ import annotations

import unicodedata

from babel import Locale
from babel.dates import get_timezone, get_timezone_location, get_timezone_name
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

COUNTRIES = {"CA": _l("Canada"), "US": _l("United States")}

# One time zone per province or state: the one most of its population lives in.
PROVINCES: dict[str, dict[str, tuple[object, str]]] = {
    "CA": {
        "AB": (_l("Alberta"), "America/Edmonton"),
        "BC": (_l("British Columbia"), "America/Vancouver"),
        "MB": (_l("Manitoba"), "America/Winnipeg"),
        "NB": (_l("New Brunswick"), "America/Moncton"),
        "NL": (_l("Newfoundland and Labrador"), "America/St_Johns"),
        "NS": (_l("Nova Scotia"), "America/Halifax"),
        "NT": (_l("Northwest Territories"), "America/Yellowknife"),
        "NU": (_l("Nunavut"), "America/Iqaluit"),
        "ON": (_l("Ontario"), "America/Toronto"),
        "PE": (_l("Prince Edward Island"), "America/Halifax"),
        "QC": (_l("Quebec"), "America/Toronto"),
        "SK": (_l("Saskatchewan"), "America/Regina"),
        "YT": (_l("Yukon"), "America/Whitehorse"),
    },
    "US": {
        "AL": (_l("Alabama"), "America/Chicago"),
        "AK": (_l("Alaska"), "America/Anchorage"),
        "AZ": (_l("Arizona"), "America/Phoenix"),
        "AR": (_l("Arkansas"), "America/Chicago"),
        "CA": (_l("California"), "America/Los_Angeles"),
        "CO": (_l("Colorado"), "America/Denver"),
        "CT": (_l("Connecticut"), "America/New_York"),
        "DE": (_l("Delaware"), "America/New_York"),
        "DC": (_l("District of Columbia"), "America/New_York"),
        "FL": (_l("Florida"), "America/New_York"),
        "GA": (_l("Georgia"), "America/New_York"),
        "HI": (_l("Hawaii"), "Pacific/Honolulu"),
        "ID": (_l("Idaho"), "America/Boise"),
        "IL": (_l("Illinois"), "America/Chicago"),
        "IN": (_l("Indiana"), "America/Indiana/Indianapolis"),
        "IA": (_l("Iowa"), "America/Chicago"),
        "KS": (_l("Kansas"), "America/Chicago"),
        "KY": (_l("Kentucky"), "America/New_York"),
        "LA": (_l("Louisiana"), "America/Chicago"),
        "ME": (_l("Maine"), "America/New_York"),
        "MD": (_l("Maryland"), "America/New_York"),
        "MA": (_l("Massachusetts"), "America/New_York"),
        "MI": (_l("Michigan"), "America/Detroit"),
        "MN": (_l("Minnesota"), "America/Chicago"),
        "MS": (_l("Mississippi"), "America/Chicago"),
        "MO": (_l("Missouri"), "America/Chicago"),
        "MT": (_l("Montana"), "America/Denver"),
        "NE": (_l("Nebraska"), "America/Chicago"),
        "NV": (_l("Nevada"), "America/Los_Angeles"),
        "NH": (_l("New Hampshire"), "America/New_York"),
        "NJ": (_l("New Jersey"), "America/New_York"),
        "NM": (_l("New Mexico"), "America/Denver"),
        "NY": (_l("New York"), "America/New_York"),
        "NC": (_l("North Carolina"), "America/New_York"),
        "ND": (_l("North Dakota"), "America/Chicago"),
        "OH": (_l("Ohio"), "America/New_York"),
        "OK": (_l("Oklahoma"), "America/Chicago"),
        "OR": (_l("Oregon"), "America/Los_Angeles"),
        "PA": (_l("Pennsylvania"), "America/New_York"),
        "RI": (_l("Rhode Island"), "America/New_York"),
        "SC": (_l("South Carolina"), "America/New_York"),
        "SD": (_l("South Dakota"), "America/Chicago"),
        "TN": (_l("Tennessee"), "America/Chicago"),
        "TX": (_l("Texas"), "America/Chicago"),
        "UT": (_l("Utah"), "America/Denver"),
        "VT": (_l("Vermont"), "America/New_York"),
        "VA": (_l("Virginia"), "America/New_York"),
        "WA": (_l("Washington"), "America/Los_Angeles"),
        "WV": (_l("West Virginia"), "America/New_York"),
        "WI": (_l("Wisconsin"), "America/Chicago"),
        "WY": (_l("Wyoming"), "America/Denver"),
    },
}


def time_zone(country: str | None, province: str | None) -> str | None:
    """Return the IANA time zone of ``province`` in ``country``, or ``None`` if unknown."""
    entry = PROVINCES.get(country or "", {}).get(province or "")
    return entry[1] if entry else None


def _sort_key(name) -> str:
    """``name`` without accents and case, to sort "Île-du-Prince-Édouard" among the I's."""
    decomposed = unicodedata.normalize("NFKD", str(name))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def province_choices(country: str | None) -> list[tuple[str, object]]:
    """Return ``(code, name)`` pairs of the provinces or states of ``country``, by name in
    the reader's language; each name is a lazy translation (str() it in a request)."""
    pairs = [(code, name) for code, (name, _zone) in PROVINCES.get(country or "", {}).items()]
    return sorted(pairs, key=lambda pair: _sort_key(pair[1]))


def country_name(country: str | None) -> str:
    """Return ``country``'s name in the reader's language ("États-Unis" for ``"US"`` in
    French); "" for none, the code itself for an unknown one."""
    if not country:
        return ""
    return str(COUNTRIES.get(country, country))


def province_name(country: str | None, province: str | None) -> str:
    """Return the province or state's name in the reader's language ("Québec" for
    ``("CA", "QC")`` in French); "" for none, the code itself for an unknown one."""
    if not province:
        return ""
    entry = PROVINCES.get(country or "", {}).get(province)
    return str(entry[0]) if entry else province


def region_name(country: str | None, province: str | None) -> str:
    """Return where a shop is, for people: "Québec, Canada", "Canada", or "" (issue 12
    point 1)."""
    return ", ".join(n for n in (province_name(country, province), country_name(country)) if n)


def zone_label(zone: str | None) -> str:
    """Return the IANA ``zone`` named for people in the reader's language, through Babel's
    CLDR names (Canada's, for a language without a territory): "heure de l’Est (Toronto)",
    "Eastern Time (Toronto)"; "" for none (issue 12 point 2: the zone named, no raw code)."""
    if not zone:
        return ""
    tz = get_timezone(zone)
    locale = get_locale() or Locale("en")
    if not locale.territory:  # the shops are in North America: Canada's names for a zone
        locale = Locale(locale.language, "CA")
    city = get_timezone_location(tz, locale=locale, return_city=True)
    return f"{get_timezone_name(tz, locale=locale)} ({city})"
