"""What the campaign pages say of how far a campaign went, in the reader's language: the
Recipients row (how many customers were asked, how many refused, how many of its messages
were canceled before they left), why each listed message failed, was refused or was
canceled, and the notice after a cancel (the campaign's messages counted apart from the
first-SMS disclaimers canceled with them)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import ngettext

from plugins.sms_module.campaigns import Outcome
from plugins.sms_module.campaigns.messages import Canceled
from plugins.sms_module.models import SmsCampaign, SmsMessage, Status, Withdrawal
from plugins.sms_module.models.campaigns import CampaignStatus
from plugins.sms_module.sending import withdrawal
from plugins.sms_module.texts.preview import withdrawal_label
from plugins.sms_module.texts.reasons import failure_text, history_text


def recipients_text(campaign: SmsCampaign, outcome: Outcome) -> str | None:
    """Say whom the campaign asked once it asked anyone: its customers asked and refused
    (when prepared, or canceled while it was being prepared), and its messages canceled
    before they left; None while nobody was asked (the page says why)."""
    canceled = outcome.counts["canceled"]
    if campaign.prepared_at is not None:
        asked = {"recipients": campaign.recipients, "refused": campaign.refused}
        if canceled:
            return _(
                "%(recipients)s customer(s) asked, %(refused)s refused when prepared; "
                "%(canceled)s message(s) canceled before they left.",
                canceled=canceled,
                **asked,
            )
        return _("%(recipients)s customer(s) asked, %(refused)s refused when prepared", **asked)
    if campaign.status != CampaignStatus.CANCELED or not outcome.messages:
        return None
    # Canceled while its fan-out ran: what the chunks written before the cancel hold.
    asked = {"recipients": outcome.messages, "refused": outcome.counts["refused"]}
    if canceled:
        return _(
            "Canceled while its messages were being prepared: %(recipients)s customer(s) "
            "asked, %(refused)s refused; %(canceled)s message(s) canceled before they left.",
            canceled=canceled,
            **asked,
        )
    return _(
        "Canceled while its messages were being prepared: %(recipients)s customer(s) asked, "
        "%(refused)s refused.",
        **asked,
    )


def why_texts(campaign: SmsCampaign, shown: list[SmsMessage]) -> dict[int, str]:
    """Say why each message of ``shown`` failed, was refused or was canceled (its Canceled
    history line's code: ``withdrawal.reasons``, one query), by message id; "" for the
    others."""
    canceled = withdrawal.reasons(shown)
    found = {}
    for message in shown:
        why = ""
        if message.failure_code or message.failure_reason:
            why = failure_text(message.failure_code, message.failure_reason)
        elif message.status == Status.CANCELED:
            why = history_text(None, canceled.get(message.id), campaign.company)
            if not why and campaign.status == CampaignStatus.CANCELED:
                why = withdrawal_label(Withdrawal.CAMPAIGN_CANCELED) or ""
        found[message.id] = why
    return found


def canceled_notice(name: str, canceled: Canceled, before: Outcome) -> str:
    """The notice after the shop canceled the campaign ``name``: how many of its messages
    will not leave, and apart, the first-SMS disclaimers canceled with them; when none was
    waiting, whether any had been written (``before``: its outcome before the cancel)."""
    if canceled.messages and canceled.disclaimers:
        return ngettext(
            'Campaign "%(name)s" canceled: %(count)s message(s) will not leave, nor '
            "%(num)s first-SMS disclaimer that was to precede them.",
            'Campaign "%(name)s" canceled: %(count)s message(s) will not leave, nor '
            "%(num)s first-SMS disclaimers that were to precede them.",
            canceled.disclaimers,
            name=name,
            count=canceled.messages,
        )
    if canceled.messages:
        return _(
            'Campaign "%(name)s" canceled: %(count)s message(s) will not leave.',
            name=name,
            count=canceled.messages,
        )
    if not before.messages:
        return _(
            'Campaign "%(name)s" canceled before its messages were written: it sends nothing.',
            name=name,
        )
    return _(
        'Campaign "%(name)s" canceled: none of its messages was still waiting to leave.',
        name=name,
    )
