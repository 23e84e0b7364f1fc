"""The start page's messages that failed or were refused in the last ``PROBLEM_DAYS`` days
(issue 12, point 7): why, in the reader's words, where the cause is fixed while it is still
there, and whether the message may be sent again (``notifications.resend``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from host.api import Company, Customer, InvalidPhone, db, normalize_phone
from plugins.sms_module.compliance import rules
from plugins.sms_module.compliance.rules import Refusal
from plugins.sms_module.models import Direction, FailureCode, SmsMessage, Status
from plugins.sms_module.models.statuses import is_refusal
from plugins.sms_module.notifications.resend import resend_allowed, resent_ids, still_refused
from plugins.sms_module.reports.cells import KIND_LABELS
from plugins.sms_module.texts.reasons import failure_text

PROBLEM_DAYS = 7  # how far back the failed and refused messages are listed
MAX_ROWS = 50  # rows the list shows; the count above it says how many there are

# The failures whose cause is the customer's phone, fixed on the Customer Information tab
# (where the phone is edited): the module's rules and the carrier's "invalid 'To' number"
# (21211) and "not a mobile number" (21614), as ``carriers.errors`` names them.
PHONE_CAUSES = frozenset(
    {FailureCode.NO_PHONE, FailureCode.INVALID_PHONE, FailureCode.NO_CONSENT, "21211", "21614"}
)
SHOP_CAUSES = frozenset(
    {FailureCode.MODULE_OFF, FailureCode.V2V_MISSING, FailureCode.LOCATION_MISSING}
)


@dataclass(frozen=True)
class Problem:
    """A message that failed or was refused: why, where to fix it, and whether it may be
    sent again now (``blocker``: what still stops it; ``None`` once fixed)."""

    message: SmsMessage
    why: str
    refused: bool
    fix_url: str | None
    fix_label: str
    resendable: bool
    blocker: str | None

    @property
    def kind_label(self) -> str:
        return str(KIND_LABELS.get(self.message.kind, self.message.kind))


# Failed and refused messages, and their resend ---------------------------------------------


def failed_or_refused(shop: Company, now: datetime) -> tuple[list[Problem], int]:
    """Return the shop's outbound messages that failed or were refused in the last
    ``PROBLEM_DAYS`` days (by their last change), newest first, less those already sent
    again from here (at most ``MAX_ROWS``), and how many there are in all."""
    since = now - timedelta(days=PROBLEM_DAYS)
    condition = (
        (SmsMessage.company_id == shop.id)
        & (SmsMessage.direction == Direction.OUTBOUND)
        & SmsMessage.status.in_((Status.FAILED, Status.UNDELIVERED))
        & (SmsMessage.updated_at >= since)
    )
    candidates = list(
        db.session.execute(select(SmsMessage.id).where(condition).order_by(SmsMessage.id.desc()))
        .scalars()
        .all()
    )
    resent = resent_ids(candidates)
    kept = [i for i in candidates if i not in resent]
    shown = kept[:MAX_ROWS]
    messages = {
        m.id: m for m in db.session.scalars(select(SmsMessage).where(SmsMessage.id.in_(shown)))
    }
    return [problem(messages[i], shop) for i in shown], len(kept)


def problem(message: SmsMessage, shop: Company) -> Problem:
    """Describe ``message``'s failure for the start page. A refused message links to where
    its cause is fixed only while a rule still refuses it (``remaining_cause``: the link
    then goes to where that cause is fixed), else it offers Resend only; a failed one
    links to where its failure is fixed (issue 12 review, point 5)."""
    refused = is_refusal(message.status, message.failure_code)
    resendable = refused and resend_allowed(message)
    if refused:
        cause = remaining_cause(message, shop)
        fix_url, fix_label = fix_link(cause.code, message, shop) if cause else (None, "")
        blocker = cause.message if resendable and cause is not None else None
    else:
        fix_url, fix_label = fix_link(message.failure_code, message, shop)
        blocker = None
    return Problem(
        message,
        failure_text(message.failure_code, message.failure_reason),
        refused,
        fix_url,
        fix_label,
        resendable,
        blocker,
    )


def remaining_cause(message: SmsMessage, shop: Company) -> Refusal | None:
    """Return what would still refuse the refused ``message`` now (the shop's module and
    location, the customer's phone, its validity, consent and opt-out:
    ``notifications.resend.still_refused``), or ``None`` once it is fixed. A refusal whose
    cause cannot be read again (a message to no customer, refused for its text or queue)
    stays as it was."""
    shop_refusal = rules.shop_refusal(shop)
    if shop_refusal is not None:
        return shop_refusal
    code = message.failure_code
    if message.customer_id is None:
        return None if code in SHOP_CAUSES else Refusal(code, "")
    refusal = still_refused(message, shop)
    if refusal is None and code == FailureCode.INVALID_PHONE:
        customer = db.session.get(Customer, message.customer_id)
        try:
            normalize_phone(customer.mobile_phone, shop.country)
        except InvalidPhone:
            refusal = Refusal(code, failure_text(code))
    return refusal


def fix_link(code: str | None, message: SmsMessage, shop: Company) -> tuple[str | None, str]:
    """Return where the failure ``code`` of ``message`` is fixed, and the link's words: the
    Options tab, Company management, the Customer Information tab for the phone and the
    consent (``PHONE_CAUSES``), else the customer's SMS tab."""
    if code == FailureCode.MODULE_OFF:
        return url_for("companies.options", company_id=shop.id), _("Open the Options tab")
    if code in (FailureCode.V2V_MISSING, FailureCode.LOCATION_MISSING):
        return url_for("companies.edit", company_id=shop.id), _("Open Company management")
    if message.customer_id is None:
        return None, ""
    if code in PHONE_CAUSES:
        return (
            url_for("customers.show", customer_id=message.customer_id),
            _("Open the customer's information"),
        )
    return url_for("sms_customer.show", customer_id=message.customer_id), _(
        "Open the customer's SMS"
    )


# For the operator: messages reconciliation could not tell apart (issue 15, point 2) -------


def reconcile_flagged() -> tuple[list[SmsMessage], int]:
    """Return the messages left in Sending whose carrier record could be another message's
    for longer than ``SMS_RECONCILE_MAX_WAIT_MINUTES`` (``SmsMessage.reconcile_flagged_at``),
    the longest waiting first (at most ``MAX_ROWS``), and how many there are in all. They are
    neither recorded as sent nor sent again while they wait."""
    condition = (SmsMessage.status == Status.SENDING) & SmsMessage.reconcile_flagged_at.is_not(None)
    count = db.session.scalar(select(func.count()).select_from(SmsMessage).where(condition))
    rows = db.session.scalars(
        select(SmsMessage)
        .where(condition)
        .order_by(SmsMessage.reconcile_wait_since, SmsMessage.id)
        .limit(MAX_ROWS)
    ).all()
    return list(rows), count or 0
