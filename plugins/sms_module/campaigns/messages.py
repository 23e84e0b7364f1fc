"""A campaign's messages that have not left yet (Accepted, Scheduled or Queued: no worker
has them): canceled when the shop stops the campaign, rewritten when it edits the text.

A page of a few thousand at a time, each page in one UPDATE whose condition is the move's
compare-and-set (``WHERE status IN`` the statuses that may still change, as
``lifecycle.withdraw``): a worker that took a message a moment ago (it is Sending) wins and
the message is left as it is: it has left (PRODUCT.md §6: Canceled ends a message withdrawn
before it reached the carrier). Each changed message gets its history line. The first-SMS
disclaimers the campaign wrote (they carry its id) are canceled with it: no phone gets "we
will text you" for a campaign that does not come; another message waiting for that phone
writes its own disclaimer when it goes (``sending.send_job``). A 100,000-message campaign
is canceled in a few dozen statements (issue 14 point 4), not two per message.
"""

from __future__ import annotations

from collections import defaultdict
from typing import NamedTuple

from sqlalchemy import insert, select, update

from host.api import Company, Customer, db, get_redis, utcnow
from plugins.sms_module.models import Kind, SmsMessage, SmsStatusChange, Source
from plugins.sms_module.models.codes import Step
from plugins.sms_module.models.statuses import CANCELABLE, Status
from plugins.sms_module.sending import outbox
from plugins.sms_module.texts.pricing import segment_rule
from plugins.sms_module.texts.segments import count_segments, price
from plugins.sms_module.texts.templates import message_language

# Messages changed per transaction.
PAGE = 2000


class Canceled(NamedTuple):
    """What a cancel withdrew: the campaign's own messages, and the first-SMS disclaimers
    that were to go before them (told apart: a shop counts its campaign's messages)."""

    messages: int = 0
    disclaimers: int = 0


def _waiting_page(campaign_id: int, after: int, kinds: tuple[str, ...]) -> list[tuple]:
    """The next page of the campaign's messages that have not left, after id ``after``:
    (id, customer's language or None, price per segment, kind), by id."""
    return list(
        db.session.execute(
            select(SmsMessage.id, Customer.language, SmsMessage.price_per_segment, SmsMessage.kind)
            .outerjoin(Customer, Customer.id == SmsMessage.customer_id)
            .where(
                SmsMessage.campaign_id == campaign_id,
                SmsMessage.kind.in_(kinds),
                SmsMessage.status.in_(CANCELABLE),
                SmsMessage.id > after,
            )
            .order_by(SmsMessage.id)
            .limit(PAGE)
        ).all()
    )


def _moved(ids: list[int], *conditions, **values) -> list[tuple[int, Status]]:
    """Change the messages of ``ids`` that still have not left (and meet ``conditions``);
    return (id, status) of those changed (the compare-and-set: a message a worker took
    meanwhile stays)."""
    table = SmsMessage.__table__
    result = db.session.execute(
        update(table)
        .where(table.c.id.in_(ids), table.c.status.in_(list(CANCELABLE)), *conditions)
        .values(updated_at=utcnow(), **values)
        .returning(table.c.id, table.c.status),
        execution_options={"synchronize_session": False},
    )
    return [(mid, Status(status)) for mid, status in result]


def _note(steps: list[tuple[int, Status]], source: str, detail: str) -> None:
    """Add each message's history line (``lifecycle.note``), in one INSERT."""
    if steps:
        now = utcnow()
        db.session.execute(
            insert(SmsStatusChange.__table__),
            [
                {"message_id": mid, "status": st, "at": now, "source": source, "detail": detail}
                for mid, st in steps
            ],
        )


def cancel_waiting(campaign_id: int, source: str, reason: str) -> Canceled:
    """Cancel the campaign's messages (and its disclaimers) that have not left, with
    ``reason`` in their history; return how many of each. Commits, a page at a time."""
    messages, disclaimers, after = 0, 0, 0
    while page := _waiting_page(campaign_id, after, (Kind.CAMPAIGN, Kind.DISCLAIMER)):
        after = page[-1][0]
        kinds = {row[0]: row[3] for row in page}
        moved = _moved(list(kinds), status=Status.CANCELED)
        _note([(mid, Status.CANCELED) for mid, _ in moved], source, reason)
        db.session.commit()
        _forget_jobs([mid for mid, _ in moved])
        notes = sum(1 for mid, _ in moved if kinds[mid] == Kind.DISCLAIMER)
        messages, disclaimers = messages + len(moved) - notes, disclaimers + notes
    return Canceled(messages, disclaimers)


def _forget_jobs(ids: list[int]) -> None:
    """Drop the canceled messages' job ids (``outbox.forget_job``), in one Redis call."""
    if ids:
        get_redis().hdel(outbox.JOBS_KEY, *ids)


def rewrite_waiting(campaign_id: int, company: Company, text_for) -> int:
    """Give the campaign's messages that have not left the text ``text_for(language)``
    returns for their customer's language, with their segments and price counted again
    (§8, at the price per segment they were accepted at); return how many changed.
    Commits, a page at a time."""
    rule = segment_rule()
    counted: dict[str, tuple] = {}
    rewritten, after = 0, 0
    while page := _waiting_page(campaign_id, after, (Kind.CAMPAIGN,)):
        after = page[-1][0]
        groups: dict[tuple, list[int]] = defaultdict(list)
        for mid, spoken, per_segment, _kind in page:
            language = message_language(_Reader(spoken), company)
            groups[(language, per_segment)].append(mid)
        for (language, per_segment), ids in groups.items():
            if language not in counted:
                text = text_for(language)
                counted[language] = (text, count_segments(text, **rule))
            text, count = counted[language]
            moved = _moved(
                ids,
                SmsMessage.__table__.c.body != text,  # already this text: left, no line
                body=text,
                segments=count.segments,
                encoding=count.encoding,
                price=price(count.segments, per_segment),
            )
            _note(moved, Source.STAFF, Step.TEXT_EDITED)
            rewritten += len(moved)
        db.session.commit()
    return rewritten


class _Reader:
    """What ``message_language`` reads of a customer: the language on file."""

    def __init__(self, language: str | None) -> None:
        self.language = language
