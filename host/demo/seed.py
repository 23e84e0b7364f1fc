"""The demo's data: two shops (one in Quebec, in French; one in Ontario, in English) with
their users, customers, appointments, invoices and the previous SMS module's log.

Seeding is idempotent: each row is looked up by its natural key first, so a second run
creates nothing twice (and gives a demo user back its printed password).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import select

from host.extensions import db
from host.models import (
    Appointment,
    AppointmentStatus,
    Company,
    Customer,
    Invoice,
    LegacySmsLog,
    Role,
    User,
)


@dataclass(frozen=True)
class DemoLogin:
    """A login the demo prints: ``shop`` is the shop's name, ``None`` for the operator."""

    email: str
    password: str
    role: Role
    shop: str | None


@dataclass(frozen=True)
class DemoShop:
    """A demo shop: its company, logins (by ``key``), customers and legacy SMS bodies."""

    name: str
    v2v_number: str
    province: str
    language: str
    key: str
    customers: tuple[tuple[str, str, str, str], ...]  # first, last, mobile, vehicle
    sms_bodies: tuple[str, ...]  # the previous SMS module's log


DEMO_SHOPS = (
    DemoShop(
        name="Garage Beaubien",
        v2v_number="V2V-DEMO-QC",
        province="QC",
        language="fr",
        key="qc",
        customers=(
            ("Marie", "Tremblay", "+15145550101", "Honda Civic 2019"),
            ("Jean", "Gagnon", "+15145550102", "Toyota RAV4 2021"),
            ("Sophie", "Roy", "+15145550103", "Mazda 3 2018"),
            ("Luc", "Côté", "+15145550777", "Ford F-150 2020"),
        ),
        sms_bodies=(
            "Rappel : votre rendez-vous est demain à 9 h.",
            "Votre véhicule est prêt. Merci !",
        ),
    ),
    DemoShop(
        name="Danforth Auto Care",
        v2v_number="V2V-DEMO-ON",
        province="ON",
        language="en",
        key="on",
        customers=(
            ("Emily", "Smith", "+14165550101", "Chevrolet Malibu 2017"),
            ("James", "Brown", "+14165550102", "Hyundai Tucson 2022"),
            ("Olivia", "Wilson", "+14165550103", "Subaru Outback 2019"),
            ("Noah", "Taylor", "+14165550777", "Volkswagen Jetta 2020"),
        ),
        sms_bodies=(
            "Reminder: your appointment is tomorrow at 9 am.",
            "Your vehicle is ready. Thank you!",
        ),
    ),
)

OPERATOR = DemoLogin("operator@example.com", "demo-operator", Role.OPERATOR, None)


def shop_logins(shop: DemoShop) -> list[DemoLogin]:
    """Return the administrator and staff logins of a demo shop."""
    return [
        DemoLogin(f"admin.{shop.key}@example.com", f"demo-admin-{shop.key}", Role.ADMIN, shop.name),
        DemoLogin(f"staff.{shop.key}@example.com", f"demo-staff-{shop.key}", Role.STAFF, shop.name),
    ]


def get_or_add(model, lookup: dict, **values):
    """Return the row of ``model`` matching ``lookup``, adding it with ``values`` if missing."""
    row = db.session.scalar(select(model).filter_by(**lookup))
    if row is None:
        row = model(**lookup, **values)
        db.session.add(row)
        db.session.flush()
    return row


def seed_user(login: DemoLogin, company_id: int | None) -> User:
    """Add the demo user, or give it back its printed password."""
    user = get_or_add(
        User,
        {"email": login.email},
        role=login.role,
        company_id=company_id,
        name=login.email.split("@")[0],
        password_hash="",
    )
    if not user.check_password(login.password):
        user.set_password(login.password)
    return user


def at_local(shop: Company, day: date, hour: int) -> datetime:
    """Return ``hour`` o'clock on ``day`` in the shop's time zone, as an aware UTC time."""
    local = datetime.combine(day, time(hour), shop.zone)
    return local.astimezone(UTC)


def seed_shop(spec: DemoShop, today: date) -> Company:
    """Add one demo shop with its users, customers, appointments, invoices and legacy SMS."""
    shop = get_or_add(
        Company,
        {"v2v_number": spec.v2v_number},
        name=spec.name,
        country="CA",
        province=spec.province,
        language=spec.language,
    )
    for login in shop_logins(spec):
        seed_user(login, shop.id)
    for n, (first, last, mobile, vehicle) in enumerate(spec.customers, start=1):
        customer = get_or_add(
            Customer,
            {"company_id": shop.id, "mobile_phone": mobile},
            first_name=first,
            last_name=last,
            language=spec.language,
        )
        get_or_add(
            Appointment,
            {"company_id": shop.id, "customer_id": customer.id, "vehicle": vehicle},
            starts_at=at_local(shop, today + timedelta(days=n), 8 + n),
            status=AppointmentStatus.BOOKED,
        )
        get_or_add(
            Invoice,
            {"company_id": shop.id, "number": f"{spec.key.upper()}-{1000 + n}"},
            customer_id=customer.id,
            total=Decimal(75 * n) + Decimal("0.50"),
        )
        body = spec.sms_bodies[n % len(spec.sms_bodies)]
        get_or_add(
            LegacySmsLog,
            {"company_id": shop.id, "phone": mobile, "body": body},
            sent_at=at_local(shop, today - timedelta(days=30 + n), 10),
            status="delivered" if n % 3 else "failed",
        )
    return shop


def seed_demo(today: date | None = None) -> list[DemoLogin]:
    """Add the demo shops and users if missing (in the app context); return the logins."""
    today = today or datetime.now(UTC).date()
    for spec in DEMO_SHOPS:
        seed_shop(spec, today)
    seed_user(OPERATOR, None)
    db.session.commit()
    # Plugins add theirs once the shops exist.
    current_app.extensions["plugin_manager"].hook.seed_demo()
    db.session.commit()
    return [OPERATOR, *(login for spec in DEMO_SHOPS for login in shop_logins(spec))]
