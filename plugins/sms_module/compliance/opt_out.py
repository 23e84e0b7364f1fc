"""The platform-wide opt-out list (PRODUCT.md §5): one row per E.164 number, archived
rather than deleted, with every opt-out and opt-in kept as an event."""

from __future__ import annotations

from sqlalchemy import and_, select
from sqlalchemy.exc import IntegrityError

from host.api import db
from plugins.sms_module.models import OptOut, OptOutAction, OptOutEvent


def listed(phone_column):
    """Return the SQL condition that joins ``OptOut`` to a phone column: the phone is on the
    opt-out list (``is_opted_out`` in SQL, for a whole audience at once: §5)."""
    return and_(OptOut.phone == phone_column, OptOut.active)


def is_opted_out(phone: str) -> bool:
    """Tell whether ``phone`` is on the platform-wide opt-out list."""
    return bool(db.session.scalar(select(OptOut.id).where(OptOut.phone == phone, OptOut.active)))


def opted_in_since(phone: str, moment) -> bool:
    """Tell whether ``phone`` opted in (texted START…) at or after ``moment`` (an aware
    datetime): an opt-out the carrier reports about a message sent before then (Twilio's
    21610, replayed or late) is out of date and must not undo it (PRODUCT.md §5)."""
    return bool(
        db.session.scalar(
            select(OptOutEvent.id)
            .where(
                OptOutEvent.phone == phone,
                OptOutEvent.action == OptOutAction.OPT_IN,
                OptOutEvent.at >= moment,
            )
            .limit(1)
        )
    )


def opt_out(phone: str, source: str, company_id: int | None = None, raw: str | None = None) -> bool:
    """Put ``phone`` on the opt-out list and keep the event (the caller commits).

    Return whether this call put it there (``False`` when it was listed already, also by a
    STOP committed a moment before by another process: decided under the row's lock, so
    two STOPs at once get one confirmation, PRODUCT.md §5)."""
    return _record(phone, OptOutAction.OPT_OUT, source, company_id, raw)


def opt_in(phone: str, source: str, company_id: int | None = None, raw: str | None = None) -> bool:
    """Archive ``phone``'s opt-out row and keep the event (the caller commits). Return
    whether this call took it off the list (``False`` when it was not on it)."""
    return _record(phone, OptOutAction.OPT_IN, source, company_id, raw)


def _record(phone: str, action: OptOutAction, source: str, company_id, raw) -> bool:
    active = action == OptOutAction.OPT_OUT
    row = db.session.scalar(select(OptOut).where(OptOut.phone == phone).with_for_update())
    changed = False
    if row is not None:
        changed = row.active != active
        row.active = active
    elif active:
        try:
            with db.session.begin_nested():
                db.session.add(OptOut(phone=phone, active=True))
            changed = True
        except IntegrityError:
            # Another process put the phone on the list at the same moment: one row stays.
            db.session.scalar(select(OptOut).where(OptOut.phone == phone)).active = True
    db.session.add(
        OptOutEvent(
            phone=phone, action=action, company_id=company_id, raw_message=raw, source=source
        )
    )
    return changed


def events(phone: str) -> list[OptOutEvent]:
    """Return the opt-out and opt-in events of ``phone``, oldest first."""
    return list(
        db.session.scalars(
            select(OptOutEvent).where(OptOutEvent.phone == phone).order_by(OptOutEvent.id)
        )
    )
