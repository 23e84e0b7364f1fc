"""The reports' filters: what each accepts, how typed values are read, and in which zone.

A value a report cannot use is dropped with a note the page shows (``check_filters``),
never an error: the ``from`` and ``to`` dates (YYYY-MM-DD, both included) are days of the
viewer's zone (``zone_name``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from host.api import FIRST_YEAR, LAST_YEAR, shop_zone
from plugins.sms_module.models import Direction, OptOutAction, Queue
from plugins.sms_module.models.statuses import REFUSED, Status
from plugins.sms_module.reports import cells
from plugins.sms_module.reports.cells import Filter

# The values each choice filter accepts; any other value is ignored, with a note. A status
# may be "refused" (``statuses.is_refusal``), as the message log shows it.
CHOICES: dict[str, tuple[str, ...]] = {
    "status": (*(s.value for s in Status), REFUSED),
    "queue": tuple(q.value for q in Queue),
    "direction": tuple(d.value for d in Direction),
    "period": ("day", "month"),
    "action": tuple(a.value for a in OptOutAction),
}
DATE_HINTS = {"from": "YYYY-MM-DD", "to": "YYYY-MM-DD"}
# Each filter's name (the query parameter) with its label; "from" and "to" are date inputs.
FILTERS: dict[str, Filter] = {
    "status": Filter("status", _l("Status")),
    "queue": Filter("queue", _l("Queue")),
    "direction": Filter("direction", _l("Direction")),
    "period": Filter("period", _l("Period")),
    "action": Filter("action", _l("Action")),
    "phone": Filter("phone", _l("Phone")),
    "from": Filter("from", lazy_pgettext("date filter", "From"), "date"),
    "to": Filter("to", lazy_pgettext("date filter", "To"), "date"),
}
# What to type in a text filter (its placeholder): the phone filter matches the beginning
# of the E.164 number (``phone_matches``: an index range), not digits found anywhere in it.
HINTS = {"phone": _l("Its beginning: 514 555")}
# How each choice filter's values are shown (a code and its label).
_CELLS = {
    "status": cells.status,
    "queue": cells.queue,
    "direction": cells.direction,
    "period": cells.period,
    "action": cells.action,
}


def filters(*names: str) -> tuple[Filter, ...]:
    """Return the named filters, labelled, in that order (a ``Report``'s ``filters``)."""
    return tuple(FILTERS[name] for name in names)


def hints(*names: str) -> dict[str, str]:
    """Return the placeholders of the named text filters (a ``Report``'s ``filter_hints``)."""
    return {name: HINTS[name] for name in names}


def choices(*names: str) -> dict[str, tuple]:
    """Return the values each named choice filter offers, each a code with its label (a
    ``Report``'s ``filter_choices``; issue 12 point 1)."""
    return {name: tuple(_CELLS[name](value) for value in CHOICES[name]) for name in names}


# A filter's name as the notes say it ("The “from” date…"), in the reader's language.
_NOTE_NAMES = {
    "status": lazy_pgettext("filter name", "status"),
    "queue": lazy_pgettext("filter name", "queue"),
    "direction": lazy_pgettext("filter name", "direction"),
    "period": lazy_pgettext("filter name", "period"),
    "action": lazy_pgettext("filter name", "action"),
    "from": lazy_pgettext("filter name", "from"),
    "to": lazy_pgettext("filter name", "to"),
}


def _label(name: str) -> str:
    return str(_NOTE_NAMES.get(name, name))


DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass
class Criteria:
    """The filter values a report uses, read from what was typed."""

    zone: str = "UTC"
    start: datetime | None = None  # UTC, included
    end: datetime | None = None  # UTC, excluded
    first_day: date | None = None  # the same two days as typed (the viewer's zone), included
    last_day: date | None = None
    period: str = "month"
    choice: dict[str, str] = field(default_factory=dict)
    phone: str = ""
    notes: list[str] = field(default_factory=list)


def _day(name: str, value: str, notes: list[str]) -> date | None:
    value = value.strip()
    if not value:
        return None
    if DATE.fullmatch(value):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            pass
        else:
            if FIRST_YEAR <= day.year <= LAST_YEAR:
                return day
            notes.append(
                _(
                    "The “%(name)s” date “%(value)s” is out of range: it is ignored.",
                    name=_label(name),
                    value=value,
                )
            )
            return None
    notes.append(
        _(
            "The “%(name)s” date “%(value)s” is not a date written YYYY-MM-DD: it is ignored.",
            name=_label(name),
            value=value,
        )
    )
    return None


def _midnight(day: date, zone: str) -> datetime:
    """Return when ``day`` begins in ``zone``, in UTC."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone)).astimezone(UTC)


def read_filters(filters: Mapping[str, str], zone: str = "UTC") -> Criteria:
    """Read the typed ``filters``; values that cannot be used are dropped with a note."""
    criteria = Criteria(zone=zone)
    notes = criteria.notes
    first = _day("from", filters.get("from", ""), notes) if "from" in filters else None
    last = _day("to", filters.get("to", ""), notes) if "to" in filters else None
    if first and last and first > last:
        notes.append(_("The “from” date is after the “to” date: no row matches."))
    if first:
        criteria.start, criteria.first_day = _midnight(first, zone), first
    if last:
        criteria.end, criteria.last_day = _midnight(last + timedelta(days=1), zone), last
    for name, accepted in CHOICES.items():
        value = (filters.get(name) or "").strip().lower()
        if not value:
            continue
        if value in accepted:
            criteria.choice[name] = value
        else:
            notes.append(
                _(
                    "The “%(name)s” filter “%(value)s” is not one of: %(accepted)s. It is ignored.",
                    name=_label(name),
                    value=filters.get(name, "").strip(),
                    accepted=", ".join(str(c.label).lower() for c in choices(name)[name]),
                )
            )
    criteria.period = criteria.choice.pop("period", "month")
    if phone := (filters.get("phone") or "").strip():
        digits = re.sub(r"\D", "", phone)
        if digits:
            criteria.phone = ("+" if phone.startswith("+") else "") + digits
        else:
            notes.append(
                _("The phone filter “%(value)s” has no digit: it is ignored.", value=phone)
            )
    return criteria


def phone_prefix(typed: str) -> str:
    """Return the E.164 beginning of a phone filter's digits (``Criteria.phone``): as typed
    after a "+", else a North American number ("514 555" → "+1514555", "1 514…" →
    "+1514…"): the stored phones are E.164 (issue 14, point 2)."""
    digits = typed.lstrip("+")
    if typed.startswith("+") or digits.startswith("1"):
        return "+" + digits
    return "+1" + digits


def phone_matches(column, typed: str):
    """The SQL of "``column`` (an E.164 phone: "+" and digits) begins with the filter's
    phone": a range of the column's index ("+1514" ≤ phone < "+1515"), so the filter reads
    only the phones that match, and the planner can tell how many do (a ``LIKE`` beside
    the range made it think almost none did)."""
    prefix = phone_prefix(typed)
    return (column >= prefix) & (column < prefix[:-1] + chr(ord(prefix[-1]) + 1))


def check_filters(filters: Mapping[str, str]) -> list[str]:
    """Return the notes about the filter values a report ignores."""
    return read_filters(filters).notes


def zone_name(company) -> str:
    """Return the IANA name of the zone days are counted in: the shop's, UTC for the
    operator (``host.api.shop_zone``)."""
    return shop_zone(company).key
