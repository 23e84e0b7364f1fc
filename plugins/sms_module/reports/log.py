"""The message log: every message of the shop, newest first, and each one's detail page
with its whole status history. A refusal (``statuses.is_refusal``) is listed and filtered
as "refused"; the "failed" filter keeps the carrier's failures."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from host.api import Company, Customer, Report, ReportDetail, db, utcnow
from plugins.sms_module.models import Queue, SmsMessage, SmsStatusChange
from plugins.sms_module.models.statuses import REFUSED, Status, is_refusal
from plugins.sms_module.reports.filters import (
    CHOICES,
    DATE_HINTS,
    check_filters,
    read_filters,
    zone_name,
)
from plugins.sms_module.reports.sql import (
    in_window,
    local_time,
    money,
    refused,
    scoped,
    status_text,
    stream,
)
from plugins.sms_module.texts.preview import LABELS, refused_label, status_label, withdrawal_label

LOG_COLUMNS = (
    "id",
    "created_at",
    "customer",
    "phone",
    "direction",
    "kind",
    "queue",
    "status",
    "segments",
    "attempts",
    "cost",
    "currency",
    "failure_code",
    "failure_reason",
    "sender_number",
    "shop",
)


def log_rows(company, filters: Mapping[str, str]) -> Iterator[tuple]:
    """Yield every message of the shop, newest first, as LOG_COLUMNS."""
    criteria = read_filters(filters, zone_name(company))
    m = SmsMessage
    query = (
        select(
            m.id,
            m.created_at,
            Customer.first_name,
            Customer.last_name,
            m.phone,
            m.direction,
            m.kind,
            m.queue,
            m.status,
            m.updated_at,
            m.segments,
            m.attempts,
            m.price,
            m.currency,
            m.failure_code,
            m.failure_reason,
            m.sender_number,
            Company.name,
        )
        .outerjoin(Customer, Customer.id == m.customer_id)
        .outerjoin(Company, Company.id == m.company_id)
        .order_by(m.created_at.desc(), m.id.desc())
    )
    query = in_window(scoped(query, company), m.created_at, criteria)
    if status := criteria.choice.get("status"):
        query = query.where(_status_is(status))
    if queue := criteria.choice.get("queue"):
        query = query.where(m.queue == Queue(queue))
    if direction := criteria.choice.get("direction"):
        query = query.where(m.direction == direction)
    if criteria.phone:
        query = query.where(m.phone.contains(criteria.phone, autoescape=True))
    now = utcnow()
    for row in stream(query):
        (id_, created, first, last, phone, direction, kind, queue, status, updated) = row[:10]
        segments, attempts, price, currency, code, reason, sender, shop = row[10:]
        yield (
            id_,
            local_time(created, criteria.zone),
            f"{first or ''} {last or ''}".strip(),
            phone,
            direction,
            kind,
            str(queue),
            status_text(status, updated, now, code),
            segments,
            attempts,
            money((price or 0) * (attempts or 0)),
            currency,
            code or "",
            reason or "",
            sender or "",
            shop or "",
        )


def _status_is(status: str):
    """The SQL of the status filter: "refused" picks the refusals, "failed" the carrier's
    failures only, any other status its messages."""
    if status == REFUSED:
        return refused()
    if status == Status.FAILED:
        return (SmsMessage.status == Status.FAILED) & ~refused()
    return SmsMessage.status == Status(status)


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
        (_("Message"), message.id),
        (_("Shop"), shop.name if shop else ""),
        (_("Created"), local_time(message.created_at, zone)),
        (_("Customer"), customer.full_name if customer else ""),
        (_("Phone"), message.phone),
        (_("Direction"), message.direction),
        (_("Kind"), message.kind),
        (_("Queue"), str(message.queue)),
        (_("Status"), status_label(message)),
        (_("Send at"), local_time(message.send_at, zone)),
        (_("Sender number"), message.sender_number or ""),
        (_("Provider reference"), message.provider_sid or ""),
        (_("Segments"), message.segments),
        (_("Encoding"), message.encoding),
        (_("Price per attempt"), money(message.price)),
        (_("Attempts"), message.attempts),
        (_("Cost"), money(message.cost)),
        (_("Currency"), message.currency),
        (_("Failure code"), message.failure_code or ""),
        (_("Failure reason"), message.failure_reason or ""),
        (_("Text"), message.body),
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
                source,
                withdrawal_label(detail) or detail or "",
            )
            for at, status, source, detail in history
        ],
    )


def message_log() -> Report:
    """Describe the message log, with each message's detail and status history."""
    return Report(
        name="sms_message_log",
        title=_l("SMS message log"),
        columns=LOG_COLUMNS,
        rows=log_rows,
        description=_l(
            "Every message sent or received, newest first; open one for its status history. "
            "Cost is the price of one attempt times the attempts: every attempt is charged."
        ),
        filters=("status", "queue", "direction", "phone", "from", "to"),
        detail=message_detail,
        check_filters=check_filters,
        filter_choices={n: CHOICES[n] for n in ("status", "queue", "direction")},
        filter_hints=DATE_HINTS,
    )


def _step_label(status: str, refusal: bool) -> str:
    """Return how a step of the history is shown: its status, "Refused" for the Failed step
    of a refusal."""
    if refusal and status == Status.FAILED:
        return refused_label()
    return str(LABELS.get(status, status))
