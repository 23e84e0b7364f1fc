"""What a shop does to its campaign (issue 11: campaigns a shop can stop): confirm it after
the review, edit it, cancel it (its test send to a phone of its own is ``trial``'s).

The rule of editing, by the campaign's status (``CampaignStatus``):
- a draft, or a confirmed campaign whose fan-out has not started (its send time has not
  come): everything may change (name, texts, send time, audience); a confirmed campaign
  goes back to draft, and is reviewed and confirmed again, since its audience and cost may
  have changed with it;
- sending, while a message has not left: the name and the texts only. The send time has
  come and the audience is being asked, so those stay; the messages that have not left
  (Accepted, Scheduled, Queued) get the new text, with their segments and price counted
  again (``messages.rewrite_waiting``), the fan-out's next customers too; a message a
  worker already has (Sending) or that left keeps its text;
- once every message has left, or canceled: nothing.
A cancel is allowed until every message has left: what has not left becomes Canceled.

Every change is a compare-and-set on the campaign's status (``UPDATE … WHERE status = …``),
so a fan-out starting at the same moment and a page's change never both win.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import update

from host.api import db, utcnow
from plugins.sms_module.campaigns import messages, queueing, review
from plugins.sms_module.campaigns.progress import Outcome
from plugins.sms_module.compliance import quiet_hours, rules
from plugins.sms_module.models import SmsCampaign, Source, Withdrawal
from plugins.sms_module.models.campaigns import CANCELABLE, EDITABLE, CampaignStatus


class NotAllowed(Exception):
    """What the shop asked cannot be done to the campaign now; ``message`` says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def finished(campaign: SmsCampaign, outcome: Outcome) -> bool:
    """Tell whether every message of a sending campaign has left (none waiting)."""
    return (
        campaign.status == CampaignStatus.SENDING
        and campaign.prepared_at is not None
        and outcome.counts["waiting"] == 0
    )


def stage(campaign: SmsCampaign, outcome: Outcome) -> str:
    """Return where the campaign is, for people's pages: its status, or "done"."""
    return "done" if finished(campaign, outcome) else str(campaign.status)


def _set_if(campaign: SmsCampaign, statuses, **values) -> bool:
    """Write ``values`` on the campaign if its status is still one of ``statuses``."""
    done = db.session.execute(
        update(SmsCampaign)
        .where(SmsCampaign.id == campaign.id, SmsCampaign.status.in_(list(statuses)))
        .values(**values)
    )
    db.session.commit()
    db.session.refresh(campaign)
    return done.rowcount == 1


def confirm(campaign: SmsCampaign, user_id: int | None, seen: str) -> None:
    """Confirm a draft the shop reviewed (``seen``: the ``review.fingerprint`` it was shown)
    and put its fan-out on the queue for its send time (now if that passed; never in the
    quiet hours). Raises ``NotAllowed`` if it is no draft, changed since, or the shop may
    not send (§3)."""
    if campaign.status != CampaignStatus.DRAFT:
        raise NotAllowed(_("This campaign is not a draft any more: there is nothing to confirm."))
    if review.fingerprint(campaign) != seen:
        raise NotAllowed(_("The campaign changed since this page was shown: review it again."))
    refusal = rules.shop_refusal(campaign.company)
    if refusal is not None:
        raise NotAllowed(refusal.message)
    now = utcnow()
    start = max(campaign.send_at, now)
    due = quiet_hours.next_morning(start, campaign.company)
    asked = (campaign.requested_send_at or start) if due != start else None
    if not _set_if(
        campaign,
        {CampaignStatus.DRAFT},
        status=CampaignStatus.CONFIRMED,
        confirmed_at=now,
        confirmed_by_id=user_id,
        send_at=due,
        requested_send_at=asked,
    ):
        raise NotAllowed(_("This campaign is not a draft any more: there is nothing to confirm."))
    queueing.enqueue(campaign.id)


def redraft(campaign: SmsCampaign, values: dict) -> None:
    """Write the shop's changes on a draft or a confirmed campaign not yet sending, which
    becomes a draft to review again. ``values``: name, body, body_fr, language, send_at
    (UTC, out of the quiet hours) and requested_send_at. Raises ``NotAllowed`` once its
    fan-out started."""
    if not _set_if(
        campaign,
        EDITABLE,
        status=CampaignStatus.DRAFT,
        confirmed_at=None,
        confirmed_by_id=None,
        **values,
    ):
        raise NotAllowed(
            _("The campaign started sending meanwhile: only its name and text can change now.")
        )


def edit_text(campaign: SmsCampaign, outcome: Outcome, name: str, body: str, body_fr) -> int:
    """Change the name and texts of a sending campaign and rewrite its messages that have
    not left; return how many were rewritten. Raises ``NotAllowed`` when every message has
    left or it is canceled."""
    if campaign.status != CampaignStatus.SENDING or finished(campaign, outcome):
        raise NotAllowed(_("Every message of this campaign has left: it cannot change."))
    if not _set_if(campaign, {CampaignStatus.SENDING}, name=name, body=body, body_fr=body_fr):
        raise NotAllowed(_("The campaign was canceled meanwhile."))
    company = campaign.company
    return messages.rewrite_waiting(
        campaign.id, company, lambda language: review.message_text(company, body, body_fr, language)
    )


def cancel(campaign: SmsCampaign, outcome: Outcome, user_id: int | None) -> messages.Canceled:
    """Cancel the campaign: its fan-out stops and its messages that have not left become
    Canceled (a message already Sending or sent is left), with the first-SMS disclaimers
    that were to go before them; return how many of each were canceled.
    Raises ``NotAllowed`` when it is canceled already or every message has left."""
    if finished(campaign, outcome):
        raise NotAllowed(_("Every message of this campaign has left: there is nothing to stop."))
    if not _set_if(
        campaign,
        CANCELABLE,
        status=CampaignStatus.CANCELED,
        canceled_at=utcnow(),
        canceled_by_id=user_id,
    ):
        raise NotAllowed(_("This campaign is canceled already."))
    return messages.cancel_waiting(campaign.id, Source.STAFF, Withdrawal.CAMPAIGN_CANCELED)
