"""The appointment-save benchmark's client: a shop set up for one variant, and its admin
saving the shop's appointment over HTTP/1.1 keep-alive against a WSGI server of its own."""

from __future__ import annotations

import cProfile
import http.client
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from werkzeug.security import generate_password_hash
from werkzeug.serving import WSGIRequestHandler, make_server

from bench.common import OPTION_NUMBER, Bench
from host.extensions import db
from host.models import (
    Appointment,
    AppointmentStatus,
    Company,
    CompanyOption,
    Customer,
    Role,
    User,
)
from plugins.sms_module.compliance import disclaimer
from plugins.sms_module.models import lifecycle
from plugins.sms_module.models.statuses import Status

PASSWORD = "bench password"
CSRF = re.compile(rb'name="csrf_token" type="hidden" value="([^"]+)"')


class KeepAliveHandler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"  # keep the connection open between requests

    def log_request(self, *args) -> None:
        pass  # a line per request would cost more than some requests


class Profiled:
    """WSGI middleware that profiles its app while ``active`` (single-threaded server)."""

    def __init__(self, app) -> None:
        self.app, self.active, self.profile = app, False, cProfile.Profile()

    def __call__(self, environ, start_response):
        if not self.active:
            return self.app(environ, start_response)
        self.profile.enable()
        try:
            return list(self.app(environ, start_response))
        finally:
            self.profile.disable()


class Variant:
    """One variant: its server, its logged-in connection, its appointment and timings."""

    def __init__(self, name: str, app, shop: dict) -> None:
        self.name, self.shop = name, shop
        self.wsgi = Profiled(app)
        self.server = make_server("127.0.0.1", 0, self.wsgi, request_handler=KeepAliveHandler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.conn = http.client.HTTPConnection("127.0.0.1", self.server.server_port)
        self.cookie = ""
        self.moves = 0
        self.times: list[float] = []
        self.login()

    def request(self, method: str, path: str, form: dict | None = None, keep_cookie=True):
        headers = {"Cookie": self.cookie}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        cookie = response.getheader("Set-Cookie")
        if cookie and keep_cookie:
            self.cookie = cookie.split(";", 1)[0]
        return response.status, data

    def login(self) -> None:
        _, page = self.request("GET", "/login")
        form = {"email": self.shop["email"], "password": PASSWORD}
        status, _ = self.request("POST", "/login", {**form, "csrf_token": token(page)})
        if status != 302:
            raise RuntimeError(f"{self.name}: login refused ({status})")
        status, page = self.request("GET", f"/appointments/{self.shop['appointment']}")
        if status != 200:
            raise RuntimeError(f"{self.name}: appointment page answered {status}")
        self.csrf = token(page)

    def save(self) -> float:
        """Move the appointment one minute later; return the request's seconds."""
        self.moves += 1
        starts = self.shop["starts_local"] + timedelta(minutes=self.moves)
        form = {
            "csrf_token": self.csrf,
            "customer_id": self.shop["customer"],
            "starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
            "vehicle": "Civic 2019",
            "status": AppointmentStatus.BOOKED.value,
        }
        started = time.perf_counter()
        # The flash of a save is read by the page the browser goes to next, which this client
        # does not load: keep the logged-in cookie so flashes do not pile up in the session.
        status, body = self.request(
            "POST", f"/appointments/{self.shop['appointment']}", form, keep_cookie=False
        )
        elapsed = time.perf_counter() - started
        if status != 302:
            raise RuntimeError(f"{self.name}: save answered {status}: {body[:300]!r}")
        return elapsed

    def close(self) -> None:
        self.conn.close()
        self.server.shutdown()
        self.server.server_close()


def token(page: bytes) -> str:
    """Return the CSRF token of the first form of ``page``."""
    found = CSRF.search(page)
    if not found:
        raise RuntimeError("no CSRF token on the page")
    return found.group(1).decode()


def add_shop(bench: Bench, index: int, option_on: bool, disclaimer_sent: bool) -> dict:
    """Add a shop, its admin, a consenting customer and an appointment three days ahead."""
    phone = f"+1514555{2000 + index:04d}"
    shop_id, (customer_id,) = bench.shop_with_customers([phone])
    company = db.session.get(Company, shop_id)
    customer = db.session.get(Customer, customer_id)
    if not option_on:
        db.session.get(CompanyOption, (shop_id, OPTION_NUMBER)).enabled = False
    email = f"admin-{index}@bench.example"
    user = User(email=email, role=Role.ADMIN, company_id=shop_id, name=email)
    user.password_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    # 10:00 shop time in three days: its reminder falls in the day, outside the quiet hours.
    zone = ZoneInfo(company.time_zone or "UTC")
    local = (datetime.now(UTC) + timedelta(days=3)).astimezone(zone)
    starts_local = local.replace(hour=10, minute=0, second=0, microsecond=0, tzinfo=None)
    appointment = Appointment(
        company_id=shop_id,
        customer_id=customer_id,
        vehicle="Civic 2019",
        starts_at=starts_local.replace(tzinfo=zone).astimezone(UTC),
        status=AppointmentStatus.BOOKED,
    )
    db.session.add_all([user, appointment])
    if disclaimer_sent:
        message = disclaimer.message_for(company, customer, phone)
        lifecycle.start(message, Status.SENT, "module", "bench: sent before the run")
        db.session.add(message)
    db.session.commit()
    return {
        "shop": shop_id,
        "email": email,
        "customer": customer_id,
        "appointment": appointment.id,
        "starts_local": starts_local,
    }
