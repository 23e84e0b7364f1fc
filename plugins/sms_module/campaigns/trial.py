"""A campaign's test send (issue 11: "a test send to a phone of the shop's own"): the
campaign's message as a customer receives it, sent only to a number the shop saved in its
SMS settings, at most ``TESTS_PER_HOUR`` an hour per campaign, under the opt-out list, the
module-on rules and the quiet hours; never counted as the campaign's outcome. (Named
``trial`` so that no tool takes it for a module of tests.)"""

from __future__ import annotations

import re
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, func, select

from host.api import Customer, InvalidPhone, db, normalize_phone, utcnow
from plugins.sms_module.campaigns import review
from plugins.sms_module.campaigns.control import NotAllowed
from plugins.sms_module.compliance import consent, quiet_hours
from plugins.sms_module.models import Kind, Queue, ShopSmsSettings, SmsCampaign, SmsMessage, Source
from plugins.sms_module.models.campaigns import CampaignStatus
from plugins.sms_module.sending import service

TEST_KEY = "campaign-test:{campaign}:{key}"
_KEY = re.compile(r"[0-9a-f]{8,32}")
TESTS_SHOWN = 10
TESTS_PER_HOUR = 5  # test sends of a campaign in any hour (issue 11: no flood of tests)
TESTS_WINDOW = timedelta(hours=1)
OWN_PHONE_FIELDS = ("forward_phone", "contact_phone")  # ShopSmsSettings: the shop's numbers


def test_key(campaign_id: int, key: str) -> str:
    """Return the idempotency key of a test send: the form's ``key`` (a page shown once
    sends once, however often it is submitted)."""
    return TEST_KEY.format(campaign=campaign_id, key=key)


def fresh_key(key: str | None) -> bool:
    """Tell whether ``key`` is a well-formed test-send key (hex, 8 to 32 characters)."""
    return bool(key and _KEY.fullmatch(key))


class TooManyTests(NotAllowed):
    """The campaign had ``TESTS_PER_HOUR`` test sends in the last hour already."""


def own_phones(company_id: int) -> list[tuple[str, str]]:
    """Return the phones of the shop's own a test may go to: the numbers it saved in its
    SMS settings (``ShopSmsSettings``), as ``(E.164, field)`` pairs, the field being
    ``"forward_phone"`` (its cell for forwarded replies) or ``"contact_phone"`` (the number
    HELP gives), each number once, the cell first. The platform's ``SMS_HELP_PHONE`` is not
    the shop's: it is never one. Empty when the shop saved none (issue 11: a test goes to a
    phone of the shop's own, never to a number typed in)."""
    settings = db.session.get(ShopSmsSettings, company_id)
    found: dict[str, str] = {}
    for field in OWN_PHONE_FIELDS:
        phone = getattr(settings, field, None) if settings is not None else None
        if phone:
            found.setdefault(phone, field)
    return list(found.items())


def _own_number(company, phone: str) -> str:
    """Return ``phone`` (as typed or chosen) in E.164 if it is one of ``own_phones``; raise
    ``NotAllowed`` otherwise, saying where the shop saves its numbers."""
    own = [number for number, _field in own_phones(company.id)]
    if not own:
        raise NotAllowed(
            _(
                "A test goes only to a phone of the shop's own: save the shop's cell or "
                "contact number in the SMS settings first."
            )
        )
    try:
        number = normalize_phone(phone, company.country)
    except InvalidPhone:
        number = None
    if number not in own:
        raise NotAllowed(
            _(
                "A test goes only to a phone of the shop's own: choose one of the numbers "
                "saved in the SMS settings."
            )
        )
    return number


def _tests_in_the_last_hour(campaign: SmsCampaign) -> int:
    """Count the campaign's test sends created in the last hour (by their key's prefix),
    with the campaign's row locked until the next commit or rollback, so two pages sending
    at once count each other (PostgreSQL; SQLite writes one at a time anyway)."""
    db.session.execute(
        select(SmsCampaign.id).where(SmsCampaign.id == campaign.id).with_for_update()
    )
    return db.session.scalar(
        select(func.count(SmsMessage.id)).where(
            _its_tests(campaign), SmsMessage.created_at >= utcnow() - TESTS_WINDOW
        )
    )


def send_test(
    campaign: SmsCampaign, phone: str, language: str, key: str, user_id: int | None
) -> SmsMessage:
    """Send the campaign's message for ``language`` to a phone of the shop's own, now (or
    at the end of the quiet hours, like every promotional text).

    ``phone`` must be one of ``own_phones`` (issue 11: "a test send to a phone of the
    shop's own"; a number typed in, a stranger's or another shop's customer's, is refused),
    and the campaign may have at most ``TESTS_PER_HOUR`` tests an hour; a form submitted
    again (same ``key``) returns its first test. It goes through the send service as the
    shop's own message (``system``: no customer's consent is asked, and no disclaimer
    precedes it), so the module-on rules (§3) and the opt-out list (§5) hold; it has no
    campaign id, so no report counts it as the campaign's. A saved number that is a
    customer's goes only if that customer consented. Raises ``NotAllowed`` (not the shop's
    number, a customer without consent, canceled campaign), ``TooManyTests`` (the hour's
    limit) or ``service.SendRefused`` (a rule); nothing is stored then."""
    if campaign.status == CampaignStatus.CANCELED:
        raise NotAllowed(_("This campaign is canceled: there is nothing to test."))
    company = campaign.company
    number = _own_number(company, phone)
    customer = db.session.scalar(
        select(Customer)
        .where(Customer.company_id == company.id, Customer.mobile_phone == number)
        .order_by(Customer.id)
        .limit(1)
    )
    if customer is not None and not consent.has_consent(customer.id):
        raise NotAllowed(
            _(
                "This number is the mobile phone of %(name)s, who gave no consent: send the "
                "test to a phone of the shop's own.",
                name=customer.full_name,
            )
        )
    dedupe_key = test_key(campaign.id, key)
    sent = service.by_key(dedupe_key)
    if sent is not None:
        return sent
    try:
        if _tests_in_the_last_hour(campaign) >= TESTS_PER_HOUR:
            raise TooManyTests(
                _(
                    "This campaign had %(count)s tests in the last hour, the most allowed: "
                    "send the next one later.",
                    count=TESTS_PER_HOUR,
                )
            )
        return service.request_send(
            company,
            to=number,
            body=review.campaign_text(campaign, language),
            queue=Queue.PROMOTIONAL.value,
            send_at=quiet_hours.next_morning(utcnow(), company),
            kind=Kind.CAMPAIGN,
            source=Source.STAFF,
            user_id=user_id,
            campaign=True,
            system=True,
            dedupe_key=dedupe_key,
        )
    except (NotAllowed, service.SendRefused):
        db.session.rollback()  # let go of the campaign's row
        raise


def _its_tests(campaign: SmsCampaign):
    """The condition "a test send of ``campaign``": its key's prefix, in its shop."""
    prefix = TEST_KEY.format(campaign=campaign.id, key="")
    return and_(
        SmsMessage.company_id == campaign.company_id,
        SmsMessage.dedupe_key.startswith(prefix, autoescape=True),
    )


def tests_of(campaign: SmsCampaign) -> list[SmsMessage]:
    """Return the campaign's last test sends, newest first."""
    return list(
        db.session.scalars(
            select(SmsMessage)
            .where(_its_tests(campaign))
            .order_by(SmsMessage.id.desc())
            .limit(TESTS_SHOWN)
        )
    )
