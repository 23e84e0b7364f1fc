"""A delivery report's move in the fewest SQL statements (issue 14, point 5): a
compare-and-set on the message's row, keyed by the carrier's SID, with its history line;
and the same for the send job's record of the carrier's receipt (``hand_over``: Sending to
Sent, keyed by our id, giving the row its SID; issue 14, point 7).

``UPDATE sms_message SET status = <new> … WHERE provider_sid = <sid> AND status IN (<the
statuses the table lets reach new>)`` is the whole rule "never backwards" (PRODUCT.md §6):
the database evaluates the condition on the row as it is when the update takes its lock,
so of two reports racing for one message, the one that comes second re-reads the first
one's status and moves only if that status still allows it. A late or repeated report
changes nothing and writes no history line.

On PostgreSQL the update, its history line and what the report found (the message's id
and status) are one statement (data-modifying CTEs), which is also its own transaction when
the caller has none open (``alone``): one round trip to the database in all. On SQLite, which has no
data-modifying CTE, the update returns the id and the line is a second statement (or, when
nothing moved, a read of the status), in the caller's transaction. The statements are built
once per target status and reused (SQLAlchemy's compiled cache, the driver's prepared
statements).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import bindparam, false, func, insert, literal, null, or_, select, update

from host.api import db
from plugins.sms_module.models import SmsMessage, SmsStatusChange, Status
from plugins.sms_module.models.statuses import can_move
from plugins.sms_module.sending.alone import first_row

MESSAGES = SmsMessage.__table__
HISTORY = SmsStatusChange.__table__
# The statuses a message is in once the carrier may hold it: a report moves it from these in
# one statement. A message still before them (a report overtaking our own record of the
# hand-over) takes the longer way (``delivery_reports``), through Sending.
HANDED_OVER = (Status.SENDING, Status.SENT)


@dataclass(frozen=True)
class Found:
    """What a report found: the message's id, its status before the report (as the
    statement's snapshot saw it; ``None`` when it moved on SQLite, which does not say), and
    whether the report moved it."""

    message_id: int
    status: Status | None
    moved: bool


def sources(target: Status) -> list[Status]:
    """Return the handed-over statuses the table lets a message leave for ``target``."""
    return [status for status in HANDED_OVER if can_move(status, target)]


def move_by_sid(
    sid: str,
    target: Status,
    source: str,
    detail: str | None,
    at: datetime,
    failure: tuple[str, str] | None = None,
    alone: bool = True,
) -> Found | None:
    """Move the message whose carrier SID is ``sid`` to ``target`` if it is in one of
    ``sources(target)``, writing ``failure`` (code, reason) with it and the history line
    (``at``, ``source``, ``detail``); return what was found, ``None`` for a SID no message
    has. One statement on PostgreSQL, committed on its own when ``alone`` and the session
    has no transaction open (``alone.first_row``); two on SQLite; otherwise in the
    session's transaction, which the caller commits. ``alone=False``: the caller writes
    more in the same transaction."""
    params = {"sid": sid, "at": at, "source": source, "detail": detail}
    if failure is not None:
        params["code"], params["reason"] = failure
    if db.engine.dialect.name != "postgresql":
        return _in_two_statements(target, failure is not None, params)
    row = first_row(_one_statement(target, failure is not None), params, alone)
    return Found(row[0], row[1], bool(row[2])) if row is not None else None


def hand_over(
    message_id: int, sid: str, at: datetime, source: str, detail: str | None
) -> str | None:
    """Record the carrier's receipt of the Sending message ``message_id``: Sent, with the
    carrier's SID ``sid`` unless it has one already, its reconciliation marks cleared, and
    the history line (``at``, ``source``, ``detail``); return the SID it now has, ``None``
    when it was not in Sending (a report overtook the send job: nothing changed).

    The send job's usual receipt in one compare-and-set statement, with no read of the row
    (issue 14, point 7): on PostgreSQL its own transaction when the session has none open
    (``alone.first_row``), else in the session's; on SQLite an ``UPDATE … RETURNING`` and
    the history line, in the session's transaction. The caller commits (``alone.commit``).
    Raises ``IntegrityError`` when another message has ``sid`` (``provider_sid`` is unique):
    nothing is written, and the session's transaction, if any, must be rolled back."""
    params = {"message_id": message_id, "sid": sid, "at": at, "source": source, "detail": detail}
    if db.engine.dialect.name == "postgresql":
        row = first_row(_handing_over_at_once(), params)
    else:
        connection = db.session.connection()
        row = connection.execute(_handing_over(), params).first()
        if row is not None:
            connection.execute(_noting(Status.SENT), params)
    return row[-1] if row is not None else None


@cache
def _handing_over():
    """``UPDATE … WHERE id = <id> AND status = 'sending' RETURNING id, provider_sid`` (binds:
    message_id, sid, at)."""
    values = {
        "status": Status.SENT,
        "provider_sid": func.coalesce(
            MESSAGES.c.provider_sid, _bind("sid", MESSAGES.c.provider_sid)
        ),
        "reconcile_wait_since": null(),
        "reconcile_flagged_at": null(),
        "updated_at": _bind("at", MESSAGES.c.updated_at),
    }
    return (
        update(MESSAGES)
        .where(MESSAGES.c.id == _bind("message_id", MESSAGES.c.id))
        .where(MESSAGES.c.status == Status.SENDING)
        .values(values)
        .returning(MESSAGES.c.id, MESSAGES.c.provider_sid)
    )


@cache
def _handing_over_at_once():
    """PostgreSQL: ``_handing_over`` and its history line in one statement."""
    moved = _handing_over().cte("moved")
    line = insert(HISTORY).from_select(
        HISTORY_COLUMNS, select(*_line_values(moved.c.id, Status.SENT))
    )
    return select(moved.c.provider_sid).add_cte(line.cte("noted"))


def _in_two_statements(target: Status, failing: bool, params: dict) -> Found | None:
    """SQLite: the move, then its history line or the status it could not leave."""
    connection = db.session.connection()
    moved_id = connection.execute(_moving(target, failing), params).scalar()
    if moved_id is not None:
        connection.execute(_noting(target), {**params, "message_id": moved_id})
        return Found(moved_id, None, True)
    row = connection.execute(_status_of(), params).first()
    return Found(row[0], row[1], False) if row is not None else None


@cache
def _moving(target: Status, failing: bool):
    """``UPDATE … RETURNING id``: the compare-and-set (binds: sid, at[, code, reason])."""
    values = {"status": target, "updated_at": _bind("at", MESSAGES.c.updated_at)}
    if failing:
        values["failure_code"] = _bind("code", MESSAGES.c.failure_code)
        values["failure_reason"] = _bind("reason", MESSAGES.c.failure_reason)
    allowed = [MESSAGES.c.status == status for status in sources(target)]
    return (
        update(MESSAGES)
        .where(MESSAGES.c.provider_sid == _bind("sid", MESSAGES.c.provider_sid))
        .where(or_(*allowed) if allowed else false())
        .values(values)
        .returning(MESSAGES.c.id)
    )


def _line_values(message_id, target: Status) -> list:
    """The history line's values (message id, status, at, source, detail), typed."""
    return [
        message_id,
        literal(target, HISTORY.c.status.type),
        _bind("at", HISTORY.c.at),
        _bind("source", HISTORY.c.source),
        _bind("detail", HISTORY.c.detail),
    ]


HISTORY_COLUMNS = ["message_id", "status", "at", "source", "detail"]


@cache
def _noting(target: Status):
    """``INSERT`` of the history line (binds: message_id, at, source, detail)."""
    values = _line_values(_bind("message_id", HISTORY.c.message_id), target)
    return insert(HISTORY).values(dict(zip(HISTORY_COLUMNS, values, strict=True)))


@cache
def _status_of():
    """The id and status of the message with a SID (bind: sid)."""
    return select(MESSAGES.c.id, MESSAGES.c.status).where(
        MESSAGES.c.provider_sid == _bind("sid", MESSAGES.c.provider_sid)
    )


@cache
def _one_statement(target: Status, failing: bool):
    """PostgreSQL: the move, its history line and what was found, in one statement."""
    moved = _moving(target, failing).cte("moved")
    line = insert(HISTORY).from_select(HISTORY_COLUMNS, select(*_line_values(moved.c.id, target)))
    return (
        select(
            MESSAGES.c.id,
            MESSAGES.c.status,
            select(func.count()).select_from(moved).scalar_subquery(),
        )
        .where(MESSAGES.c.provider_sid == _bind("sid", MESSAGES.c.provider_sid))
        .add_cte(line.cte("noted"))
    )


def _bind(name: str, column):
    """A named bound parameter typed as ``column``."""
    return bindparam(name, type_=column.type)
