"""Login throttling per account and per address, and the same work for known and unknown
e-mails (``host/login_throttle.py``, ``host/users.py``, ``host/views/auth.py``)."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta

import pytest
from werkzeug.security import generate_password_hash

from host import models, users
from host.extensions import db
from host.models import User
from tests.conftest import PASSWORD
from tests.support_pages import page_text

ATTACKER = {"REMOTE_ADDR": "203.0.113.7"}
OFFICE = {"REMOTE_ADDR": "198.51.100.20"}


def attempt(client, email, password="wrong password", address=ATTACKER):
    return client.post("/login", data={"email": email, "password": password}, environ_base=address)


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(datetime(2026, 12, 1, 15, 0, tzinfo=UTC), tick=True)
    return time_machine


def test_an_account_is_throttled_after_ten_failures(client, shops, clock):
    email = shops["a"]["admin"]
    for _ in range(10):
        assert attempt(client, email).status_code == 422
    refused = attempt(client, email, PASSWORD)  # even the right password waits now
    assert refused.status_code == 429
    assert "Too many failed logins. Try again in 15 minutes." in page_text(refused)
    assert 0 < int(refused.headers["Retry-After"]) <= 15 * 60
    # From another address too: the account is what is throttled.
    assert attempt(client, email, PASSWORD, OFFICE).status_code == 429
    # Another account from the same address still logs in.
    assert attempt(client, shops["b"]["admin"], PASSWORD).status_code == 302
    clock.shift(timedelta(minutes=15, seconds=1))
    assert attempt(client, email, PASSWORD).status_code == 302


def test_an_unknown_email_is_throttled_like_a_known_one(client, shops, clock):
    """Throttling tells nothing about which e-mails have an account."""
    for _ in range(10):
        response = attempt(client, "nobody@example.com")
        assert response.status_code == 422
        assert "Wrong e-mail or password." in page_text(response)
    assert attempt(client, "NOBODY@Example.com").status_code == 429  # same account, any case


def test_an_address_is_throttled_after_its_limit(make_app, shops, clock):
    app = make_app(LOGIN_LIMIT_PER_ADDRESS="3 per 15 minutes")
    client = app.test_client()
    for n in range(3):
        assert attempt(client, f"guess{n}@example.com").status_code == 422
    assert attempt(client, shops["a"]["admin"], PASSWORD).status_code == 429
    # The office next door is not punished for the attacker's address.
    assert attempt(client, shops["a"]["admin"], PASSWORD, OFFICE).status_code == 302


def test_successful_logins_do_not_count(make_app, shops, clock):
    app = make_app(LOGIN_LIMIT_PER_ACCOUNT="2 per 15 minutes")
    client = app.test_client()
    for _ in range(5):
        assert attempt(client, shops["a"]["admin"], PASSWORD).status_code == 302
        client.post("/logout")


def test_the_throttle_message_is_in_french(client, shops, clock):
    client.get("/language/fr")
    for _ in range(10):
        attempt(client, shops["a"]["admin"])
    refused = attempt(client, shops["a"]["admin"])
    assert refused.status_code == 429
    assert "Trop de connexions échouées. Réessayez dans 15 minutes." in page_text(refused)


def test_an_unknown_email_costs_one_password_hash(app, shops, monkeypatch):
    """The same work whether the e-mail is known or not: one hash, of the users' method."""
    with app.app_context():
        user = db.session.get(User, shops["a"]["admin_id"])
        user.password_hash = generate_password_hash(PASSWORD)  # the default method (scrypt)
        db.session.commit()
        real_method = user.password_hash.split("$", 1)[0]
    checked = []
    original = users.check_password_hash

    def spy(pwhash, password):
        checked.append(pwhash.split("$", 1)[0])
        return original(pwhash, password)

    monkeypatch.setattr(users, "check_password_hash", spy)
    monkeypatch.setattr(models, "check_password_hash", spy)  # User.check_password
    with app.app_context():
        assert users.authenticate("nobody@example.com", PASSWORD) is None
        assert users.authenticate(shops["a"]["admin"], "wrong password") is None
        user.active = False
        db.session.merge(user)
        db.session.commit()
        assert users.authenticate(shops["a"]["admin"], PASSWORD) is None  # inactive: hashed too
    assert checked == [real_method, real_method, real_method]


def test_known_and_unknown_emails_take_the_same_time(app, client, shops):
    with app.app_context():
        user = db.session.get(User, shops["a"]["admin_id"])
        user.password_hash = generate_password_hash(PASSWORD)
        db.session.commit()
    users.authenticate.__globals__["_dummy_hash"]()  # made once per process, before timing

    def median_time(email):
        times = []
        for _ in range(5):
            start = time.perf_counter()
            assert attempt(client, email, address={"REMOTE_ADDR": email}).status_code == 422
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    known, unknown = median_time(shops["a"]["admin"]), median_time("nobody@example.com")
    assert 0.5 < unknown / known < 2, (known, unknown)


def test_logging_in_never_hangs_on_redis_being_away(make_app, shops):
    # The throttle lets the attempt through with a log line; the login itself works.
    down = make_app(REDIS_URL="redis://127.0.0.1:1/0")
    client = down.test_client()
    answer = client.post("/login", data={"email": shops["a"]["staff"], "password": PASSWORD})
    assert answer.status_code == 302
    wrong = client.post("/login", data={"email": shops["a"]["staff"], "password": "nope"})
    assert wrong.status_code == 422  # refused as a wrong password, not a 500


def test_parallel_wrong_passwords_cannot_beat_the_account_limit(app, monkeypatch):
    """30 simultaneous guesses at one account: at most 10 reach the password check, the
    others are answered 429 (issue 13: counted before the password is checked)."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Condition, Event

    from host.views import auth

    checked, finished, release, cond = [], [], Event(), Condition()

    def held_authenticate(email, password):
        # Every attempt that got past the gate waits here, so no failure is counted late.
        with cond:
            checked.append(email)
            cond.notify_all()
        assert release.wait(60)
        return None

    monkeypatch.setattr(auth, "authenticate", held_authenticate)

    def guess(n):
        answer = app.test_client().post(
            "/login",
            data={"email": "victim@example.com", "password": f"guess {n}"},
            environ_base={"REMOTE_ADDR": f"203.0.113.{n}"},
        )
        with cond:
            finished.append(answer.status_code)
            cond.notify_all()
        return answer.status_code

    with ThreadPoolExecutor(max_workers=30) as pool:
        futures = [pool.submit(guess, n) for n in range(30)]
        with cond:  # all 30 are either refused or waiting at the password check
            assert cond.wait_for(lambda: len(checked) + len(finished) == 30, timeout=60)
        release.set()
        statuses = sorted(f.result() for f in futures)
    assert len(checked) == 10
    assert statuses == [422] * 10 + [429] * 20


def test_successful_logins_from_one_address_do_not_count(make_app, shops, clock):
    app = make_app(LOGIN_LIMIT_PER_ADDRESS="2 per 15 minutes")
    client = app.test_client()
    for email in (shops["a"]["admin"], shops["a"]["staff"], shops["b"]["admin"]) * 2:
        assert attempt(client, email, PASSWORD).status_code == 302
        client.post("/logout")
    # Failures still count: two, then even the right password waits.
    attempt(client, "one@example.com")
    attempt(client, "two@example.com")
    assert attempt(client, shops["a"]["admin"], PASSWORD).status_code == 429


def forwarded(client, email, client_address, password="wrong password"):
    """A login through the load balancer (10.0.0.2) for ``client_address``."""
    return client.post(
        "/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": "10.0.0.2"},
        headers={"X-Forwarded-For": client_address, "X-Forwarded-Proto": "https"},
    )


def test_behind_a_trusted_proxy_each_client_address_is_throttled(make_app, shops, clock):
    app = make_app(TRUSTED_PROXIES=1, LOGIN_LIMIT_PER_ADDRESS="2 per 15 minutes")
    client = app.test_client()
    for n in range(2):
        assert forwarded(client, f"guess{n}@example.com", "203.0.113.7").status_code == 422
    assert forwarded(client, shops["a"]["admin"], "203.0.113.7", PASSWORD).status_code == 429
    # Another client behind the same load balancer is not punished for the attacker.
    assert forwarded(client, shops["a"]["admin"], "198.51.100.20", PASSWORD).status_code == 302


def test_without_trusted_proxies_the_forwarded_header_is_ignored(make_app, shops, clock):
    """Anyone can send X-Forwarded-For: by default it changes nothing (else an attacker
    would pick a new address for every guess)."""
    app = make_app(LOGIN_LIMIT_PER_ADDRESS="2 per 15 minutes")
    client = app.test_client()
    assert forwarded(client, "guess0@example.com", "203.0.113.7").status_code == 422
    assert forwarded(client, "guess1@example.com", "203.0.113.8").status_code == 422
    assert forwarded(client, shops["a"]["admin"], "198.51.100.20", PASSWORD).status_code == 429


def test_trusted_proxies_come_from_the_environment(make_app, monkeypatch):
    monkeypatch.setenv("CRMHOST_TRUSTED_PROXIES", "1")
    app = make_app()
    assert app.config["TRUSTED_PROXIES"] == 1
    seen = {}

    @app.get("/_address")
    def address():
        from flask import request

        seen["address"] = request.remote_addr
        return ""

    forwarded_to = app.test_client().get(
        "/_address",
        environ_base={"REMOTE_ADDR": "10.0.0.2"},
        headers={"X-Forwarded-For": "203.0.113.7"},
    )
    assert forwarded_to.status_code == 200
    assert seen["address"] == "203.0.113.7"
