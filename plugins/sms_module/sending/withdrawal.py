"""Messages that have not left yet: what a page shows as waiting, and a shop's cancel of
one of them (PRODUCT.md §6: Canceled ends a scheduled message that was withdrawn)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from host.api import db
from plugins.sms_module.models import Direction, SmsMessage, SmsStatusChange, Status, lifecycle
from plugins.sms_module.models.statuses import CANCELABLE
from plugins.sms_module.sending import outbox


def waiting(*, customer_id: int | None = None, appointment_id: int | None = None) -> list:
    """Return the outbound messages of a customer or of an appointment that have not reached
    a worker (Accepted, Scheduled, Queued), the first to leave first."""
    query = select(SmsMessage).where(
        SmsMessage.direction == Direction.OUTBOUND, SmsMessage.status.in_(CANCELABLE)
    )
    if customer_id is not None:
        query = query.where(SmsMessage.customer_id == customer_id)
    if appointment_id is not None:
        query = query.where(SmsMessage.appointment_id == appointment_id)
    return list(db.session.scalars(query.order_by(SmsMessage.send_at, SmsMessage.id)).all())


def withdraw_where(
    *conditions, source: str, reason: str | Callable[[SmsMessage], str | None]
) -> int:
    """Cancel the messages matching ``conditions`` that have not reached a worker; return
    how many. ``reason`` is the history line, or a function giving it per message (``None``:
    that one stays). Rows are locked, and each move is a compare-and-set
    (``lifecycle.withdraw``), so a worker that took one a moment ago wins. Commits."""
    rows = db.session.scalars(
        select(SmsMessage).where(*conditions, SmsMessage.status.in_(CANCELABLE)).with_for_update()
    ).all()
    count = 0
    for message in rows:
        why = reason(message) if callable(reason) else reason
        if why is not None and lifecycle.withdraw(message, source, why):
            count += 1
            outbox.forget_job(message.id)
    db.session.commit()
    return count


def cancel_scheduled(customer_id: int, source: str, reason: str) -> int:
    """Cancel the customer's messages that have not reached a worker, ``reason`` (a code:
    ``codes.Step``, ``codes.Withdrawal``) in their history; return how many."""
    return withdraw_where(SmsMessage.customer_id == customer_id, source=source, reason=reason)


def cancel_one(message_id: int, source: str, reason: str) -> bool:
    """Cancel message ``message_id`` if it has not reached a worker; return whether it was."""
    return withdraw_where(SmsMessage.id == message_id, source=source, reason=reason) == 1


def reasons(messages: list) -> dict[int, str]:
    """Return, for each Canceled message of ``messages``, why it was (the detail of its
    Canceled history line: a ``Withdrawal`` code, or an older sentence), in one query."""
    ids = [m.id for m in messages if m.status == Status.CANCELED]
    if not ids:
        return {}
    rows = db.session.execute(
        select(SmsStatusChange.message_id, SmsStatusChange.detail).where(
            SmsStatusChange.message_id.in_(ids), SmsStatusChange.status == Status.CANCELED
        )
    )
    return {message_id: detail or "" for message_id, detail in rows}
