"""Sending a refused message again once its cause is fixed (issue 12, point 7).

A refused message never left: a rule stopped it before any carrier had it
(``statuses.is_refusal``). ``resend`` asks the send service for a new message with the same
text, kind and queue, keyed ``resend:<id>`` (``resend_key``) so that a second request sends
nothing more; the refused one stays as its audit row. A message that reached the carrier
(failed, undelivered) is never sent again from here, nor one the module sends itself
(disclaimer, keyword answer, forward) or a campaign's; an appointment's text only while it
is still true (``compliance.guards.stale``).
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from host.api import Appointment, Company, Customer, db, utcnow
from plugins.sms_module.compliance import guards, rules
from plugins.sms_module.compliance.rules import Refusal
from plugins.sms_module.models import Direction, FailureCode, Kind, Queue, SmsMessage, Source
from plugins.sms_module.models.statuses import is_refusal
from plugins.sms_module.notifications.reminders import reminder_time
from plugins.sms_module.sending import service

# What a refused message of these kinds may not be sent again from here: the module sends
# them itself (the disclaimer, the answer to a keyword, a forward) or a campaign owns them.
NOT_RESENT = frozenset(
    {Kind.DISCLAIMER, Kind.KEYWORD_ANSWER, Kind.REPLY_FORWARD, Kind.CAMPAIGN, Kind.INBOUND}
)


class NotResendable(Exception):
    """The message may not be sent again (``message``: why, in the reader's language)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def resend_key(message_id: int) -> str:
    """Return the idempotency key of the resend of message ``message_id``."""
    return f"resend:{message_id}"


def resent_ids(message_ids: list[int]) -> set[int]:
    """Return those of ``message_ids`` already sent again (a message keyed for it exists)."""
    if not message_ids:
        return set()
    keys = {resend_key(i): i for i in message_ids}
    found = db.session.scalars(select(SmsMessage.dedupe_key).where(SmsMessage.dedupe_key.in_(keys)))
    return {keys[key] for key in found}


def resend_allowed(message: SmsMessage) -> bool:
    """Tell whether a refused message may be sent again from the start page: a customer's
    message that the shop sends itself, not a campaign's nor the module's own, and, for an
    appointment's text, still true (``guards.stale``) and still ahead."""
    if message.customer_id is None or message.kind in NOT_RESENT or message.campaign_id:
        return False
    if message.kind in guards.GUARDS:
        if message.appointment_id is None or message.guard is None:
            return False  # what it is about is unknown: it cannot be checked still true
        return guards.stale(message, utcnow()) is None
    return True


def still_refused(message: SmsMessage, shop: Company) -> Refusal | None:
    """Return the rule that would still refuse ``message`` now (the shop's module and
    location, the customer's phone, consent and opt-out, PRODUCT.md §3–§5), or ``None``."""
    refusal = rules.shop_refusal(shop)
    if refusal is not None:
        return refusal
    customer = db.session.get(Customer, message.customer_id)
    if customer is None or not customer.mobile_phone:
        return Refusal(FailureCode.NO_PHONE, _("The customer has no mobile phone."))
    return rules.consent_refusal(customer.id) or rules.opt_out_refusal(customer.mobile_phone)


def resend(message: SmsMessage, shop: Company, user_id: int | None) -> SmsMessage:
    """Send the refused ``message`` of ``shop`` again as a new message; return it.

    Raises ``NotResendable`` when it may not be (not a refusal, a kind the module sends
    itself, a reminder too late now) or a rule still refuses it (its words), and
    ``service.SendRefused`` when the send service refuses the new one. Commits.
    """
    if (
        message.direction != Direction.OUTBOUND
        or not is_refusal(message.status, message.failure_code)
        or not resend_allowed(message)
    ):
        raise NotResendable(_("This SMS cannot be sent again from here."))
    refusal = still_refused(message, shop)
    if refusal is not None:
        raise NotResendable(_("Not sent again yet: %(why)s", why=refusal.message))
    send_at, truth = message.send_at, None
    if message.appointment_id is not None:
        truth = guards.Truth(
            message.guard, message.appointment_id, message.appointment_starts_at, message.expires_at
        )
        if message.kind == Kind.APPOINTMENT_REMINDER:
            send_at = reminder_time(db.session.get(Appointment, message.appointment_id))
            if send_at is None:
                raise NotResendable(
                    _("Too late to send this reminder now: the visit is near, or it is night.")
                )
    return service.request_send(
        shop,
        customer=db.session.get(Customer, message.customer_id),
        body=message.body,
        kind=message.kind,
        queue=Queue(message.queue).value,
        source=Source.STAFF,
        user_id=user_id,
        send_at=send_at,
        dedupe_key=resend_key(message.id),
        truth=truth,
    )
