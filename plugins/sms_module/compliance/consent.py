"""The consent ledger (PRODUCT.md §4): express consent with its evidence, append-only."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select

from host.api import Customer, csv_lines, db, utcnow
from plugins.sms_module.models import ConsentEvent, ConsentKind, ConsentMethod


def latest_consent(customer_id: int) -> ConsentEvent | None:
    """Return the customer's last consent given or withdrawn, or ``None``."""
    return db.session.scalar(
        select(ConsentEvent)
        .where(
            ConsentEvent.customer_id == customer_id,
            ConsentEvent.kind.in_([ConsentKind.GIVEN, ConsentKind.WITHDRAWN]),
        )
        .order_by(ConsentEvent.id.desc())
        .limit(1)
    )


def consenting_customers(company_id: int):
    """Return a subquery (``customer_id``) of the shop's customers whose last consent event
    gives consent: ``has_consent`` in SQL, for a whole audience at once (§4)."""
    last = (
        select(func.max(ConsentEvent.id).label("id"))
        .where(
            ConsentEvent.company_id == company_id,
            ConsentEvent.kind.in_([ConsentKind.GIVEN, ConsentKind.WITHDRAWN]),
        )
        .group_by(ConsentEvent.customer_id)
        .subquery()
    )
    return (
        select(ConsentEvent.customer_id)
        .join(last, last.c.id == ConsentEvent.id)
        .where(ConsentEvent.kind == ConsentKind.GIVEN)
        .subquery()
    )


def consents(customer_id_column):
    """Return the SQL condition (true or false, never NULL): the customer whose id is in
    ``customer_id_column`` has express consent on record, ``has_consent`` row by row (its
    last consent event gives it, §4), one index lookup per customer (issue 14 point 4)."""
    last = (
        select(ConsentEvent.kind)
        .where(
            ConsentEvent.customer_id == customer_id_column,
            ConsentEvent.kind.in_([ConsentKind.GIVEN, ConsentKind.WITHDRAWN]),
        )
        .order_by(ConsentEvent.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return func.coalesce(last == ConsentKind.GIVEN, False)


def has_consent(customer_id: int | None) -> bool:
    """Tell whether the customer's express consent is on record (never assumed)."""
    if customer_id is None:
        return False
    event = latest_consent(customer_id)
    return event is not None and event.kind == ConsentKind.GIVEN


def give_consent(
    customer: Customer,
    method: ConsentMethod,
    obtained_at: datetime,
    reference: str | None,
    user_id: int | None,
) -> ConsentEvent:
    """Record the customer's express consent with its evidence (the caller commits)."""
    event = ConsentEvent(
        company_id=customer.company_id,
        customer_id=customer.id,
        phone=customer.mobile_phone,
        kind=ConsentKind.GIVEN,
        method=method,
        obtained_at=obtained_at,
        reference=reference or None,
        recorded_by_id=user_id,
        recorded_at=utcnow(),
    )
    db.session.add(event)
    return event


def withdraw_consent(customer: Customer, user_id: int | None, reference: str | None = None):
    """Record that the customer withdrew consent (the caller commits)."""
    event = ConsentEvent(
        company_id=customer.company_id,
        customer_id=customer.id,
        phone=customer.mobile_phone,
        kind=ConsentKind.WITHDRAWN,
        reference=reference,
        obtained_at=utcnow(),
        recorded_by_id=user_id,
        recorded_at=utcnow(),
    )
    db.session.add(event)
    return event


def obtained_day(event: ConsentEvent) -> date | datetime | None:
    """Return when ``event``'s consent was obtained, as people read it: for consent given,
    the day typed on the form (stored at noon UTC: its UTC date); for a withdrawal, the
    moment it was recorded (shown in the shop's time)."""
    if event.obtained_at is None:
        return None
    return event.obtained_at.date() if event.kind == ConsentKind.GIVEN else event.obtained_at


def history(customer_id: int) -> list[ConsentEvent]:
    """Return the customer's ledger lines, oldest first."""
    return list(
        db.session.scalars(
            select(ConsentEvent)
            .where(ConsentEvent.customer_id == customer_id)
            .order_by(ConsentEvent.id)
        )
    )


LEDGER_COLUMNS = (
    "id",
    "customer_id",
    "customer",
    "phone",
    "event",
    "method",
    "obtained_at",
    "reference",
    "recorded_by",
    "recorded_at",
    "text",
)


def ledger_rows(company_id: int | None):
    """Yield the ledger of a shop (every shop for ``None``) as tuples of LEDGER_COLUMNS."""
    query = (
        select(ConsentEvent, Customer)
        .join(Customer, Customer.id == ConsentEvent.customer_id)
        .order_by(ConsentEvent.id)
    )
    if company_id is not None:
        query = query.where(ConsentEvent.company_id == company_id)
    for event, customer in db.session.execute(query):
        yield (
            event.id,
            customer.id,
            customer.full_name,
            event.phone or "",
            event.kind.value,
            event.method.value if event.method else "",
            event.obtained_at.isoformat(timespec="seconds") if event.obtained_at else "",
            event.reference or "",
            event.recorded_by.email if event.recorded_by else "",
            event.recorded_at.isoformat(timespec="seconds"),
            event.text or "",
        )


def ledger_csv(company_id: int | None) -> str:
    """Return the shop's consent ledger as CSV: the audit pack (UTF-8 with a byte-order mark,
    cells safe in a spreadsheet: ``host.api.csv_response``; the page streams it instead)."""
    return "".join(csv_lines(LEDGER_COLUMNS, ledger_rows(company_id)))
