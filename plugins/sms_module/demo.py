"""The SMS module's part of ``crmhost demo``: the module on, consents on record, and what
the banner says about the simulated customers."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import select

from host.api import Company, CompanyOption, Customer, db
from plugins.sms_module.carriers.simulator import REPLYING
from plugins.sms_module.compliance import consent
from plugins.sms_module.compliance.rules import OPTION_NUMBER
from plugins.sms_module.models import ConsentMethod


def seed_demo() -> None:
    """Switch option 124 on for the demo shops and record their customers' consent."""
    for shop in db.session.scalars(select(Company).where(Company.v2v_number.is_not(None))):
        row = db.session.get(CompanyOption, (shop.id, OPTION_NUMBER))
        if row is None:
            db.session.add(CompanyOption(company_id=shop.id, number=OPTION_NUMBER, enabled=True))
    customers = db.session.scalars(select(Customer).where(Customer.mobile_phone.is_not(None)))
    for customer in customers:
        if consent.latest_consent(customer.id) is None:
            consent.give_consent(
                customer,
                ConsentMethod.PAPER,
                datetime(2026, 1, 15, tzinfo=UTC),
                "demo: signed consent form",
                None,
            )


def notes() -> list[str]:
    """Say which demo customers answer, when the carrier is the simulator."""
    if current_app.config["SMS_PROVIDER"] != "simulator":
        return []
    return [
        f"Customers whose number ends in {REPLYING} answer each SMS they get (see SMS replies)."
    ]
