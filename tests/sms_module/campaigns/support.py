"""Helpers for the campaigns' tests: the pools' numbers, customers, campaigns, quiet hours."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from host.extensions import db
from host.models import Customer, utcnow
from plugins.sms_module.models import SmsCampaign, SmsMessage
from tests.support_sms import give_consent

TRANSACTIONAL = {
    "+14386013562",
    "+14386013492",
    "+14386011668",
    "+14386011575",
    "+14386014488",
    "+14386013998",
}
PROMOTIONAL = {"+14386013549", "+14386013643"}
ZONE = ZoneInfo("America/Toronto")  # both test shops' zone (Quebec and Ontario)


def quiet_hours_away_from_now() -> dict:
    """Quiet hours that hold no moment of the next two hours, whenever the tests run."""
    hour = datetime.now(ZONE).hour
    return {"SMS_QUIET_START_HOUR": (hour + 3) % 24, "SMS_QUIET_END_HOUR": (hour + 4) % 24}


def add_customer(shop_id: int, name: str, phone: str | None, *, language=None, consent=True):
    customer = Customer(
        company_id=shop_id, first_name=name, last_name="Test", mobile_phone=phone, language=language
    )
    db.session.add(customer)
    db.session.commit()
    if consent:
        give_consent(customer.id)
    return customer.id


def new_campaign(shop_id: int, body: str = "Winter tires: 10% off this week", **fields) -> int:
    campaign = SmsCampaign(
        company_id=shop_id, name=fields.pop("name", "Winter"), body=body, send_at=utcnow(), **fields
    )
    db.session.add(campaign)
    db.session.commit()
    return campaign.id


def campaign_messages(campaign_id: int) -> list[SmsMessage]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(SmsMessage).where(SmsMessage.campaign_id == campaign_id).order_by(SmsMessage.id)
        )
    )


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def form(**changes) -> dict:
    return {"name": "Winter", "body": "Tires 10% off", "send_at": "", "language": "", **changes}
