"""``crmhost demo``'s data (``host/demo/seed.py``): idempotent, two shops in two provinces
and languages, every printed login works."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from host.demo import DEMO_SHOPS, OPERATOR, seed_demo
from host.extensions import db
from host.models import (
    Appointment,
    Company,
    Customer,
    Invoice,
    LegacySmsLog,
    Role,
    User,
)
from host.phones import normalize_phone

SEEDED = (Company, User, Customer, Appointment, Invoice, LegacySmsLog)


def row_counts() -> dict[str, int]:
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in SEEDED}


def test_seeding_twice_creates_nothing_twice(app):
    with app.app_context():
        first_logins = seed_demo()
        first = row_counts()
        second_logins = seed_demo()
        assert row_counts() == first
    assert first_logins == second_logins
    assert first == {
        "Company": 2,
        "User": 5,
        "Customer": 8,
        "Appointment": 8,
        "Invoice": 8,
        "LegacySmsLog": 8,
    }


def test_demo_shops_are_one_in_quebec_in_french_one_in_ontario_in_english(app):
    with app.app_context():
        seed_demo()
        shops = {s.province: s for s in db.session.scalars(select(Company))}
        assert set(shops) == {"QC", "ON"}
        assert (shops["QC"].language, shops["ON"].language) == ("fr", "en")
        for province, area_code in (("QC", "+1514"), ("ON", "+1416")):
            shop = shops[province]
            assert shop.v2v_number and shop.country == "CA"
            phones = db.session.scalars(
                select(Customer.mobile_phone).where(Customer.company_id == shop.id)
            ).all()
            assert phones and all(p.startswith(area_code) for p in phones)
            assert all(normalize_phone(p) == p for p in phones)
        times = db.session.scalars(select(Appointment.starts_at)).all()
        # SQLite hands back naive UTC times; PostgreSQL aware ones.
        assert all(t.replace(tzinfo=UTC) > datetime.now(UTC) for t in times)


def test_every_printed_login_works(app):
    with app.app_context():
        logins = seed_demo()
        for login in logins:
            user = db.session.scalar(select(User).where(User.email == login.email))
            assert user.check_password(login.password), login.email
            assert user.role == login.role
            assert (user.company.name if user.company else None) == login.shop
    roles = [login.role for login in logins]
    assert roles.count(Role.OPERATOR) == 1
    assert roles.count(Role.ADMIN) == roles.count(Role.STAFF) == len(DEMO_SHOPS)


def test_seeding_again_restores_the_printed_password(app):
    with app.app_context():
        seed_demo()
        user = db.session.scalar(select(User).where(User.email == OPERATOR.email))
        user.set_password("changed since")
        db.session.commit()
        seed_demo()
        db.session.refresh(user)
        assert user.check_password(OPERATOR.password)
