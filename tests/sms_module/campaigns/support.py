"""Helpers for the campaigns' tests: the pools' numbers, the clock, customers, campaigns,
the shop's own numbers, quiet hours."""

from __future__ import annotations

import threading
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from host.extensions import db
from host.models import Customer, utcnow
from plugins.sms_module.models import ShopSmsSettings, SmsCampaign, SmsMessage
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
# The campaigns' tests run on a Tuesday morning, shop time: out of the default quiet hours
# (21:00 to 8:00), whatever the hour of the run (issue 11: tests set their clock).
DAY = datetime(2026, 12, 1, 10, 0, tzinfo=ZONE)
SHOP_CELL = "+15145550999"  # Garage A's own cell (no customer has it)


def daytime(time_machine, at: datetime = DAY) -> None:
    """Set the clock to ``at`` (a weekday morning, shop time); it ticks on from there."""
    time_machine.move_to(at, tick=True)


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


def save_numbers(shop_id: int, cell: str | None = SHOP_CELL, contact: str | None = None):
    """Save the shop's own numbers in its SMS settings (its cell for forwarded replies, its
    contact number), as the settings page does: a campaign's test may go to them."""
    row = db.session.get(ShopSmsSettings, shop_id) or ShopSmsSettings(company_id=shop_id)
    row.forward_phone, row.contact_phone = cell, contact
    db.session.add(row)
    db.session.commit()


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
    return {
        "name": "Winter",
        "body": "Tires 10% off",
        "body_fr": "",
        "send_at": "",
        "language": "",
        **changes,
    }


def footer_en(shop: str = "Garage A") -> str:
    return f"\n{shop} - Reply STOP to unsubscribe"


def footer_fr(shop: str = "Garage A") -> str:
    return f"\n{shop} - Répondez ARRET pour vous désabonner"


def confirm(client, app, campaign_id: int):
    """Confirm the campaign through its page, as reviewed (its fingerprint); return the
    response."""
    from plugins.sms_module import campaigns

    with app.app_context():
        seen = campaigns.fingerprint(db.session.get(SmsCampaign, campaign_id))
    response = client.post(f"/sms/campaigns/{campaign_id}/confirm", data={"reviewed": seen})
    assert response.status_code == 303, response.text
    return response


def cancel_after_the_first_chunk(monkeypatch, cancel) -> list:
    """Run ``cancel`` in another thread (another process's cancel) once the fan-out's first
    chunk is committed, and wait for it; return the chunks' queues as the fan-out drains
    them (its ``drain`` after each chunk)."""
    from plugins.sms_module.campaigns import fanout

    drained = []

    def drain_then_cancel(queue):
        drained.append(queue)
        if len(drained) == 1:
            other = threading.Thread(target=cancel)
            other.start()
            other.join()

    monkeypatch.setattr(fanout, "drain", drain_then_cancel)
    return drained
