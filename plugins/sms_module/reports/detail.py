"""A message's detail page in the message log: its fields and its whole status history. The
Failed step of a refusal (``statuses.is_refusal``) is shown as its refusal."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from host.api import Company, Customer, ReportDetail, db
from plugins.sms_module.models import SmsMessage, SmsStatusChange
from plugins.sms_module.models.statuses import Status, is_refusal
from plugins.sms_module.reports import cells
from plugins.sms_module.reports.filters import zone_name
from plugins.sms_module.reports.sql import local_time, money, scoped
from plugins.sms_module.texts.preview import LABELS, refused_label, status_label
from plugins.sms_module.texts.reasons import failure_text, history_text


def message_detail(company, message_id: int) -> ReportDetail | None:
    """Return a message's fields and its whole status history; ``None`` if not the shop's."""
    query = (
        select(SmsMessage, Customer, Company)
        .outerjoin(Customer, Customer.id == SmsMessage.customer_id)
        .outerjoin(Company, Company.id == SmsMessage.company_id)
        .where(SmsMessage.id == message_id)
    )
    found = db.session.execute(scoped(query, company)).first()
    if found is None:
        return None
    message, customer, shop = found
    zone = zone_name(company)
    # The Failed step of a refusal is its refusal.
    refusal = is_refusal(message.status, message.failure_code)
    history = db.session.execute(
        select(
            SmsStatusChange.at,
            SmsStatusChange.status,
            SmsStatusChange.source,
            SmsStatusChange.detail,
        )
        .where(SmsStatusChange.message_id == message.id)
        .order_by(SmsStatusChange.at, SmsStatusChange.id)
    ).all()
    fields = [
        (_("Message"), str(message.id)),
        (_("Shop"), shop.name if shop else ""),
        (_("Created"), local_time(message.created_at, zone)),
        (_("Customer"), customer.full_name if customer else ""),
        (_("Phone"), message.phone),
        (_("Text"), message.body),
        (_("Direction"), cells.direction(message.direction)),
        (_("Kind"), cells.kind(message.kind)),
        (_("Queue"), cells.queue(message.queue)),
        (_("Status"), status_label(message)),
        (_("Send at"), local_time(message.send_at, zone)),
        (_("Sender number"), message.sender_number or ""),
        (_("Provider reference"), message.provider_sid or ""),
        (_("Segments"), message.segments),
        (_("Encoding"), message.encoding),
        (_("Price per attempt"), money(message.price, message.currency)),
        (_("Attempts"), message.attempts),
        (_("Cost"), money(message.cost, message.currency)),
        (_("Currency"), message.currency),
        (_("Failure code"), cells.failure_code(message.failure_code)),
        (
            _("Failure reason"),
            failure_text(message.failure_code, message.failure_reason)
            if message.failure_code or message.failure_reason
            else "",
        ),
    ]
    return ReportDetail(
        title=_("SMS message %(id)s", id=message.id),
        fields=fields,
        table_title=_("Status history"),
        table_columns=(_("Time"), _("Status"), _("Source"), _("Detail")),
        table_rows=[
            (
                local_time(at, zone),
                _step_label(status, refusal),
                cells.source(source),
                history_text(source, detail),
            )
            for at, status, source, detail in history
        ],
    )


def _step_label(status: str, refusal: bool) -> str:
    """Return how a step of the history is shown: its status, "Refused" for the Failed step
    of a refusal."""
    if refusal and status == Status.FAILED:
        return refused_label()
    return str(LABELS.get(status, status))
