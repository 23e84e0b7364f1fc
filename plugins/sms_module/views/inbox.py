"""What the reply page shows of its conversations (PRODUCT.md §9): the inbox's rows and the
replies to flag. Queries only; the pages are in ``views.replies``.

A conversation's *last message* is the last one either side said or is still to say: a
message that never left because a rule refused it (``statuses.refusal_sql``), one that was
Canceled, or a blank one is no message of the conversation, so none is ever its preview nor
moves it up the inbox (issue 11: "the inbox never shows a refused blank line"). The
conversation itself still shows them, with their status and reason.

A reply that looks like an opt-out in other words than a keyword
(``keywords.looks_like_opt_out``) is flagged at display time, from its text: nothing is
stored, and a rule that changes flags every old reply alike. It stays *pending* (the inbox
flags its conversation, the conversation marks it) until it is handled, whatever the
customer writes after it ("Did you get my message?" does not hide it):

* the shop answered after it from the reply page (a staff message of kind REPLY that was
  said, ``said``: a refused or Canceled answer reached nobody), or
* the phone's place on the platform-wide opt-out list changed at or after it: it is opted
  out now (nothing left to do), or it was opted out and then came back with START (the
  customer's later word wins over the older look-alike).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, not_, or_, select

from host.api import Customer, db
from plugins.sms_module.compliance import keywords
from plugins.sms_module.models import Direction, Kind, OptOut, SmsMessage
from plugins.sms_module.models.report_tables import EVERY_SHOP, SmsReportConversation
from plugins.sms_module.models.statuses import Status, refusal_sql

EXCERPT = 80  # characters of the last message the inbox shows


@dataclass(frozen=True)
class Conversation:
    """One inbox row: a phone, who it is, its last message, its unread replies, whether a
    reply that looks like an opt-out is pending (``flagged``: module docstring) and whether
    the phone is on the opt-out list."""

    phone: str
    customer: Customer | None
    last: SmsMessage
    unread: int
    flagged: bool = False
    opted_out: bool = False

    @property
    def name(self) -> str:
        return self.customer.full_name if self.customer is not None else self.phone

    @property
    def excerpt(self) -> str:
        return excerpt(self.last.body)


def excerpt(text: str, length: int = EXCERPT) -> str:
    """Return ``text`` on one line, shortened to ``length`` characters."""
    text = " ".join((text or "").split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def said():
    """The SQL condition "this message is part of what was said": every reply, and our
    messages but those refused, Canceled or blank (module docstring)."""
    return or_(
        SmsMessage.direction == Direction.INBOUND,
        and_(
            not_(refusal_sql(SmsMessage.status, SmsMessage.failure_code)),
            SmsMessage.status != Status.CANCELED,
            func.trim(SmsMessage.body) != "",
        ),
    )


def conversations(
    owned, company_id: int | None, page: int, per_page: int
) -> tuple[list[Conversation], bool]:
    """Return page ``page`` (from 1) of the inbox of the messages ``owned`` selects (an SQL
    condition), ``per_page`` rows, newest conversation first, and whether older ones follow.
    ``company_id`` names the shop whose customers they are (None: the operator's). A fixed
    number of queries, whatever the page holds, each reading the page's conversations only:
    their order is kept by the database with every message (``models.report_tables``,
    ``SmsReportConversation``), never counted from all the shop's messages (issue 14)."""
    c = SmsReportConversation
    order = db.session.execute(
        select(c.phone, c.last_id)
        .where(c.owner == (company_id if company_id is not None else EVERY_SHOP))
        .order_by(c.last_id.desc(), c.phone)
        .offset((page - 1) * per_page)
        .limit(per_page + 1)
    ).all()
    more = len(order) > per_page
    order = order[:per_page]
    last = {
        m.id: m
        for m in db.session.scalars(
            select(SmsMessage).where(SmsMessage.id.in_([i for _p, i in order]))
        )
    }
    rows = [last[i] for _phone, i in order if i in last]
    phones = [m.phone for m in rows]
    unread = (
        dict(
            db.session.execute(
                select(SmsMessage.phone, func.count())
                .where(
                    owned,
                    SmsMessage.phone.in_(phones),
                    SmsMessage.direction == Direction.INBOUND,
                    SmsMessage.read_at.is_(None),
                )
                .group_by(SmsMessage.phone)
            ).all()
        )
        if phones
        else {}
    )
    customers: dict[str, Customer] = {}
    if company_id is not None and rows:
        found = db.session.scalars(
            select(Customer)
            .where(Customer.company_id == company_id, Customer.mobile_phone.in_(phones))
            .order_by(Customer.id.desc())
        )
        customers = {c.mobile_phone: c for c in found}  # the lowest id wins, as in a send
    flagged = pending_look_alikes(owned, phones)
    listed = opted_out_phones(phones)
    return [
        Conversation(
            m.phone,
            customers.get(m.phone),
            m,
            int(unread.get(m.phone, 0)),
            flagged=bool(flagged.get(m.phone)),
            opted_out=m.phone in listed,
        )
        for m in rows
    ], more


def pending_look_alikes(owned, phones: list[str]) -> dict[str, set[int]]:
    """Return, for those of ``phones`` that have any, the ids of their replies among the
    messages ``owned`` selects (an SQL condition) that look like an opt-out and are still
    pending: neither answered by the shop nor overtaken by the opt-out list (module
    docstring). One query, whatever the number of phones."""
    if not phones:
        return {}
    answered = (
        select(SmsMessage.phone, func.max(SmsMessage.id).label("answer_id"))
        .where(owned, SmsMessage.phone.in_(phones), SmsMessage.kind == Kind.REPLY, said())
        .group_by(SmsMessage.phone)
        .subquery()
    )
    found = db.session.execute(
        select(SmsMessage.id, SmsMessage.phone, SmsMessage.body)
        .outerjoin(answered, answered.c.phone == SmsMessage.phone)
        .outerjoin(OptOut, OptOut.phone == SmsMessage.phone)
        .where(
            owned,
            SmsMessage.phone.in_(phones),
            SmsMessage.direction == Direction.INBOUND,
            or_(answered.c.answer_id.is_(None), SmsMessage.id > answered.c.answer_id),
            or_(
                OptOut.id.is_(None),
                and_(not_(OptOut.active), SmsMessage.created_at >= OptOut.updated_at),
            ),
        )
    )
    pending: dict[str, set[int]] = {}
    for mid, phone, body in found:
        if keywords.looks_like_opt_out(body):
            pending.setdefault(phone, set()).add(mid)
    return pending


def opted_out_phones(phones: list[str]) -> set[str]:
    """Return those of ``phones`` that are on the platform-wide opt-out list (one query)."""
    if not phones:
        return set()
    return set(
        db.session.scalars(select(OptOut.phone).where(OptOut.phone.in_(phones), OptOut.active))
    )


def flags(messages: list[SmsMessage]) -> set[int]:
    """Return the ids of the replies among ``messages`` that look like an opt-out."""
    return {
        m.id
        for m in messages
        if m.direction == Direction.INBOUND and keywords.looks_like_opt_out(m.body)
    }
