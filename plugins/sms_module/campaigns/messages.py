"""A campaign's messages that have not left yet (Accepted, Scheduled or Queued: no worker
has them): canceled when the shop stops the campaign, rewritten when it edits the text.

Each row is locked before it changes, page by page, so a worker that took a message a
moment ago (it is Sending) wins and the message is left as it is: it has left (PRODUCT.md
§6: Canceled ends a message withdrawn before it reached the carrier). The first-SMS
disclaimers the campaign wrote (``fanout`` gives them its id) are canceled with it: no
phone gets "we will text you" for a campaign that does not come; another message waiting
for that phone writes its own disclaimer when it goes (``sending.send_job``).
"""

from __future__ import annotations

from sqlalchemy import select

from host.api import Company, db
from plugins.sms_module.models import Kind, SmsMessage, Source, lifecycle
from plugins.sms_module.models.codes import Step
from plugins.sms_module.models.statuses import CANCELABLE
from plugins.sms_module.sending import outbox
from plugins.sms_module.texts.pricing import segment_rule
from plugins.sms_module.texts.segments import count_segments, price
from plugins.sms_module.texts.templates import message_language

# Messages locked and changed per transaction.
PAGE = 200


def _waiting_page(campaign_id: int, after: int, kinds: tuple[str, ...]) -> list[SmsMessage]:
    return list(
        db.session.scalars(
            select(SmsMessage)
            .where(
                SmsMessage.campaign_id == campaign_id,
                SmsMessage.kind.in_(kinds),
                SmsMessage.status.in_(CANCELABLE),
                SmsMessage.id > after,
            )
            .order_by(SmsMessage.id)
            .limit(PAGE)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


def cancel_waiting(campaign_id: int, source: str, reason: str) -> int:
    """Cancel the campaign's messages (and its disclaimers) that have not left, with
    ``reason`` in their history; return how many. Commits, a page at a time."""
    canceled, after = 0, 0
    while page := _waiting_page(campaign_id, after, (Kind.CAMPAIGN, Kind.DISCLAIMER)):
        after = page[-1].id
        moved = [m.id for m in page if lifecycle.withdraw(m, source, reason)]
        db.session.commit()
        for message_id in moved:
            outbox.forget_job(message_id)
        canceled += len(moved)
    return canceled


def rewrite_waiting(campaign_id: int, company: Company, text_for) -> int:
    """Give the campaign's messages that have not left the text ``text_for(language)``
    returns for their customer's language, with their segments and price counted again
    (§8, at the price per segment they were accepted at); return how many changed.
    Commits, a page at a time."""
    rule = segment_rule()
    rewritten, after = 0, 0
    while page := _waiting_page(campaign_id, after, (Kind.CAMPAIGN,)):
        after = page[-1].id
        for message in page:
            text = text_for(message_language(message.customer, company))
            if text == message.body:
                continue
            count = count_segments(text, **rule)
            message.body, message.segments, message.encoding = text, count.segments, count.encoding
            message.price = price(count.segments, message.price_per_segment)
            lifecycle.note(message, message.status, Source.STAFF, Step.TEXT_EDITED)
            rewritten += 1
        db.session.commit()
    return rewritten
