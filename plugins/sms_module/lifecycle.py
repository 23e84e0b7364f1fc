"""Moving a message from one status to the next, with its history (PRODUCT.md §6)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import object_session

from host.models import utcnow
from plugins.sms_module.models import SmsMessage, SmsStatusChange
from plugins.sms_module.statuses import Status, can_move


def move(
    message: SmsMessage,
    target: Status,
    source: str,
    detail: str | None = None,
    at: datetime | None = None,
) -> bool:
    """Move ``message`` to ``target`` if the table allows it and keep the step.

    Returns ``False``, changing nothing, for a move the table refuses: a late or
    repeated report never moves a message backwards. The caller commits.
    """
    if message.status == target or not can_move(message.status, target):
        return False
    message.status = target
    note(message, target, source, detail, at)
    return True


def start(message: SmsMessage, status: Status, source: str, detail: str | None = None) -> None:
    """Give a new message its first status and the first line of its history."""
    message.status = status
    note(message, status, source, detail)


def note(
    message: SmsMessage,
    status: Status,
    source: str,
    detail: str | None = None,
    at: datetime | None = None,
) -> None:
    """Add a line to the message's history without loading the lines before it."""
    change = SmsStatusChange(status=status, at=at or utcnow(), source=source, detail=detail)
    change.message = message  # the backref appends to the history only if it is loaded
    session = object_session(message)
    if session is not None:
        session.add(change)
