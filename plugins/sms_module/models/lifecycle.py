"""Moving a message from one status to the next, with its history (PRODUCT.md §6).

Every status change goes through ``move`` (or ``start`` for a new message), which keeps the
step in the history; ``fail`` is the one way to a failure, writing status, failure code and
reason together, or nothing when the move is refused.

A reason and a history line's detail are codes (``codes.coded``: ``"code"`` or
``"code: argument"``, of ``FailureCode``, ``Reason``, ``Step`` or ``Withdrawal``), never a
sentence: people read them in their language at display time (``texts.reasons``; issue 12,
point 1).
"""

from __future__ import annotations

from datetime import datetime
from functools import cache

from sqlalchemy import bindparam, insert, update
from sqlalchemy.orm import object_session
from sqlalchemy.orm.attributes import set_committed_value

from host.api import utcnow
from plugins.sms_module.models.codes import Step, coded
from plugins.sms_module.models.messages import SmsMessage, SmsStatusChange
from plugins.sms_module.models.statuses import Status, can_move

# The statuses only ``fail`` moves to: a failure always comes with its code and reason.
FAILURES = frozenset({Status.FAILED, Status.UNDELIVERED})


def move(
    message: SmsMessage,
    target: Status,
    source: str,
    detail: str | None = None,
    at: datetime | None = None,
) -> bool:
    """Move ``message`` to ``target`` if the table allows it and keep the step.

    Returns ``False``, changing nothing, for a move the table refuses: a late or
    repeated report never moves a message backwards. Raises ``ValueError`` for Failed
    and Undelivered, which only ``fail`` reaches. The caller commits.
    """
    if target in FAILURES:
        raise ValueError(f"a move to {target} goes through fail(), with its code and reason")
    return _move(message, target, source, detail, at)


def _move(message, target, source, detail, at) -> bool:
    if message.status == target or not can_move(message.status, target):
        return False
    message.status = target
    note(message, target, source, detail, at)
    return True


def hold(message: SmsMessage) -> bool:
    """Tell whether ``message``'s stored row is still in the status read, taking it for the
    move about to be made: a compare-and-set in SQL (``UPDATE … WHERE status = <read>``).

    Needed where another process may move the same message at the same moment (a shop's
    cancel and a worker's Sending) on a database that takes no row lock: SQLite ignores
    ``FOR UPDATE``, and two read-then-write moves would each overwrite the other. ``False``:
    another process moved it since it was read; the caller changes nothing and rolls back.
    On SQLite the statement also takes the write lock until the caller commits.
    """
    session = object_session(message)
    result = session.execute(
        update(SmsMessage)
        .where(SmsMessage.id == message.id, SmsMessage.status == message.status)
        .values(updated_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount == 1


def claim(
    message: SmsMessage,
    steps: list[tuple[Status, str | None]],
    source: str,
    **values,
) -> bool:
    """Move ``message`` through ``steps`` ((status, history detail), in order) and write
    ``values`` (its other columns) in one compare-and-set ``UPDATE … WHERE status = <read>``
    (``hold`` and ``move`` in one statement), then add the steps' history lines; return
    ``False``, changing nothing, when another process moved the message since it was read
    (a shop's cancel). A step the table refuses is left out, as ``move`` leaves it.

    The send job's Sending: one UPDATE and one INSERT, on a row its caller reads ``FOR
    UPDATE``, Core statements with no unit of work of the ORM, built once per set of
    columns rather than for every send (issue 14, point 7). The object is left as the row
    now is. Raises ``ValueError`` for Failed and Undelivered (``fail``). The caller
    commits."""
    read = current = message.status
    taken = []
    for target, detail in steps:
        if target in FAILURES:
            raise ValueError(f"a move to {target} goes through fail(), with its code and reason")
        if current != target and can_move(current, target):
            taken.append((target, detail))
            current = target
    session = object_session(message)
    now = utcnow()
    values = {"status": current, "updated_at": now, **values}
    connection = session.connection()
    params = {"claimed_id": message.id, "read_status": read}
    params.update({f"new_{key}": value for key, value in values.items()})
    if connection.execute(_claiming(tuple(values)), params).rowcount != 1:
        return False
    if taken:
        lines = [
            {"message_id": message.id, "status": s, "at": now, "source": source, "detail": d}
            for s, d in taken
        ]
        connection.execute(_noting(), lines)
    for key, value in values.items():
        set_committed_value(message, key, value)  # as stored: nothing left to flush
    return True


@cache
def _claiming(columns: tuple[str, ...]):
    """``claim``'s compare-and-set, for the message columns ``columns`` (binds: claimed_id,
    read_status, and ``new_<column>`` for each)."""
    table = SmsMessage.__table__
    return (
        update(table)
        .where(table.c.id == bindparam("claimed_id", type_=table.c.id.type))
        .where(table.c.status == bindparam("read_status", type_=table.c.status.type))
        .values({name: bindparam(f"new_{name}", type_=table.c[name].type) for name in columns})
    )


@cache
def _noting():
    """``claim``'s history lines: the table's plain INSERT."""
    return insert(SmsStatusChange.__table__)


def withdraw(message: SmsMessage, source: str, detail: str) -> bool:
    """Cancel ``message`` if it has not reached a worker and no other process moved it since
    it was read (``hold``); return whether it was. ``detail``: why, a ``Withdrawal`` or
    ``Step`` code (``"canceled_by_staff: <who>"``). The caller commits."""
    if message.status == Status.CANCELED or not can_move(message.status, Status.CANCELED):
        return False
    return hold(message) and move(message, Status.CANCELED, source, detail)


def fail(
    message: SmsMessage,
    code: str,
    reason: str | None,
    source: str,
    detail: str | None = None,
    status: Status = Status.FAILED,
    at: datetime | None = None,
) -> bool:
    """Move ``message`` to Failed (or Undelivered) with its failure ``code`` and ``reason``.

    ``reason`` is a code too (``codes.Reason``: ``"opted_out: before_sending"``,
    ``"carrier_error: undelivered"``), the failure code when ``None``. All three change
    together, or none: a move the table refuses (a late report on a message already
    Delivered) leaves no failure behind and returns ``False``. ``detail`` is the history
    line (the code when omitted). The caller commits.
    """
    if status not in FAILURES:
        raise ValueError(f"fail() moves to Failed or Undelivered, not {status}")
    if not _move(message, status, source, detail if detail is not None else code, at):
        return False
    message.failure_code = code
    message.failure_reason = reason if reason is not None else str(code)
    return True


def refused(message: SmsMessage, code: str, reason: str | None, source: str) -> None:
    """Give a new message refused at acceptance its Failed status, code and reason (a code
    too, like ``fail``'s: the failure code when ``None``): the audit row of a request a rule
    refused (PRODUCT.md §4)."""
    message.failure_code = code
    message.failure_reason = reason if reason is not None else str(code)
    start(message, Status.FAILED, source, coded(Step.REFUSED, code))


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
