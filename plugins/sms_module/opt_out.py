"""The platform-wide opt-out list (PRODUCT.md §5): one row per E.164 number, archived
rather than deleted, with every opt-out and opt-in kept as an event."""

from __future__ import annotations

import unicodedata

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from host.extensions import db
from plugins.sms_module.models import OptOut, OptOutAction, OptOutEvent

STOP_WORDS = frozenset(
    {
        "STOP",
        "STOPALL",
        "UNSUBSCRIBE",
        "CANCEL",
        "END",
        "QUIT",
        "REVOKE",
        "OPTOUT",
        "ARRET",
        "ARRETE",
        "ARRETER",
        "DESABONNER",
    }
)
START_WORDS = frozenset({"START", "UNSTOP", "DEBUT"})
# YES and OUI re-subscribe only a phone that is opted out.
CONFIRM_WORDS = frozenset({"YES", "OUI"})
HELP_WORDS = frozenset({"HELP", "INFO", "AIDE"})


def keyword(text: str) -> str:
    """Fold a reply to the single upper-case word it stands for, accents and case ignored."""
    decomposed = unicodedata.normalize("NFKD", text.strip())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return plain.strip(" .!?¡¿\t\r\n").upper()


def classify(text: str, opted_out: bool) -> str | None:
    """Return ``"stop"``, ``"start"``, ``"help"`` or ``None`` for an inbound reply."""
    word = keyword(text)
    if word in STOP_WORDS:
        return "stop"
    if word in START_WORDS or (opted_out and word in CONFIRM_WORDS):
        return "start"
    if word in HELP_WORDS:
        return "help"
    return None


def is_opted_out(phone: str) -> bool:
    """Tell whether ``phone`` is on the platform-wide opt-out list."""
    return bool(db.session.scalar(select(OptOut.id).where(OptOut.phone == phone, OptOut.active)))


def opt_out(phone: str, source: str, company_id: int | None = None, raw: str | None = None):
    """Put ``phone`` on the opt-out list and keep the event (the caller commits)."""
    _record(phone, OptOutAction.OPT_OUT, source, company_id, raw)


def opt_in(phone: str, source: str, company_id: int | None = None, raw: str | None = None):
    """Archive ``phone``'s opt-out row and keep the event (the caller commits)."""
    _record(phone, OptOutAction.OPT_IN, source, company_id, raw)


def _record(phone: str, action: OptOutAction, source: str, company_id, raw) -> None:
    active = action == OptOutAction.OPT_OUT
    row = db.session.scalar(select(OptOut).where(OptOut.phone == phone).with_for_update())
    if row is not None:
        row.active = active
    elif active:
        try:
            with db.session.begin_nested():
                db.session.add(OptOut(phone=phone, active=True))
        except IntegrityError:
            # Another process put the phone on the list at the same moment: one row stays.
            db.session.scalar(select(OptOut).where(OptOut.phone == phone)).active = True
    db.session.add(
        OptOutEvent(
            phone=phone, action=action, company_id=company_id, raw_message=raw, source=source
        )
    )


def events(phone: str) -> list[OptOutEvent]:
    """Return the opt-out and opt-in events of ``phone``, oldest first."""
    return list(
        db.session.scalars(
            select(OptOutEvent).where(OptOutEvent.phone == phone).order_by(OptOutEvent.id)
        )
    )
