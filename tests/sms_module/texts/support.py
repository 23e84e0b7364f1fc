"""Helpers for the texts' tests: a shop's objects and saved templates, two dates, and the
strategies that draw SMS text."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import strategies as st
from sqlalchemy import select

from host.extensions import db
from host.models import Appointment, Company, Customer, Invoice
from plugins.sms_module.models import SmsTemplate
from plugins.sms_module.texts.segments import GSM_BASIC, GSM_EXTENSION

# 19:30 UTC on Tuesday 2 December 2025 is 14:30 in Toronto (EST, UTC-5).
WINTER = datetime(2025, 12, 2, 19, 30, tzinfo=UTC)
# 13:05 UTC on Tuesday 7 July 2026 is 9:05 in Toronto (EDT, UTC-4).
SUMMER = datetime(2026, 7, 7, 13, 5, tzinfo=UTC)


def objects(shops: dict, key: str) -> tuple[Company, Customer, Appointment, Invoice]:
    """Load shop ``key``'s company, customer, appointment and invoice."""
    data = shops[key]
    return (
        db.session.get(Company, data["shop"]),
        db.session.get(Customer, data["customer"]),
        db.session.get(Appointment, data["appointment"]),
        db.session.get(Invoice, data["invoice"]),
    )


def saved_rows(company_id: int) -> dict[tuple[str, str], SmsTemplate]:
    db.session.expire_all()
    rows = db.session.scalars(select(SmsTemplate).where(SmsTemplate.company_id == company_id))
    return {(row.event, row.language): row for row in rows}


# Hypothesis strategies: any text, and text of GSM 03.38 characters only.
gsm_chars = st.sampled_from(sorted(GSM_BASIC | GSM_EXTENSION))
any_text = st.text(max_size=400)
