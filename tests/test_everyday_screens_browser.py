"""Every page a shop's people and the operator open, walked in Chromium (issue 12's "done
when"): the Quebec shop's French pages hold no English string of the catalog, no page in
either language shows an ISO timestamp or a raw code, and no page is wider than the window
with a 2,000-character word, a long URL and a long name on it.

The walk follows the links of each page from the home page and the shop's main pages, one
page per kind (``/customers/12`` and ``/customers/13`` are one kind), on a shop whose SMS
history has a bit of everything: sent, delivered, refused by a rule, failed at the carrier,
scheduled, canceled, received, an opt-out, a consent, and the long-text fixtures. The clock
is set to a weekday morning.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from host.extensions import db
from host.models import Company, Customer
from tests.sms_module.campaigns.support import daytime
from tests.support_browser import log_in
from tests.support_walk import WIDTHS, crawl, english_strings, problems_on, raw_codes

pytest.importorskip("playwright.sync_api")

LONG_WORD = "Réparation" + "x" * 1990  # 2,000 characters, no space
LONG_URL = "https://exemple.ca/" + "/".join(f"dossier{n}" for n in range(60)) + "?suivi=abc"
LONG_NAME = "Marie-Ève-Geneviève-Anne-" + "Laurence" * 9  # 97 characters, no space


def add_everything(app, shops) -> None:
    """Give both shops an SMS history with each status, reason and the long texts."""
    from plugins.sms_module import campaigns
    from plugins.sms_module.compliance import consent
    from plugins.sms_module.conversations import inbound
    from plugins.sms_module.models import ConsentMethod, SmsMessage, Status
    from plugins.sms_module.sending import service
    from plugins.sms_module.sending.service import SendRefused
    from tests.sms_module.campaigns.support import new_campaign
    from tests.sms_module.views.support import add_message, routed_reply

    with app.app_context():
        for key in ("a", "b"):
            company = db.session.get(Company, shops[key]["shop"])
            phone, number, _reply = routed_reply(
                shops,
                key,
                body="D'accord, merci" if key == "a" else "Sounds good, thanks",
                sid=f"SMin{key}",
            )
            n = 20 if key == "a" else 30
            long_one = Customer(
                company_id=company.id,
                first_name=LONG_NAME,
                last_name="Côté",
                mobile_phone=f"+1514555{n}01" if key == "a" else f"+1416555{n}01",
            )
            no_consent = Customer(
                company_id=company.id,
                first_name="Gérald",
                last_name="Tremblay",
                mobile_phone=f"+1514555{n}02" if key == "a" else f"+1416555{n}02",
            )
            db.session.add_all([long_one, no_consent])
            db.session.commit()
            consent.give_consent(
                long_one, ConsentMethod.ELECTRONIC, datetime(2026, 3, 2, tzinfo=UTC), "site", None
            )
            db.session.commit()
            # The long texts, as replies of the shop's customer and of the long-named one.
            inbound.receive(f"SMlong{key}", phone, number, LONG_WORD)
            inbound.receive(f"SMurl{key}", phone, number, LONG_URL)
            inbound.receive(f"SMname{key}", long_one.mobile_phone, number, "Bonjour")
            # A rule's refusal: no consent on record.
            with pytest.raises(SendRefused):
                service.request_send(company, customer=no_consent, body="Votre auto est prête")
            # The carrier's failure, an older row with its English reason.
            add_message(
                company.id,
                phone,
                "Rappel: votre rendez-vous demain",
                status=Status.FAILED,
                failure_code="30003",
                failure_reason="Unreachable destination handset",
                customer_id=shops[key]["customer"],
            )
            # Delivered, and one waiting to leave next week.
            add_message(
                company.id,
                phone,
                "Votre facture est prête",
                status=Status.DELIVERED,
                customer_id=shops[key]["customer"],
            )
            service.request_send(
                company,
                customer=db.session.get(Customer, shops[key]["customer"]),
                body="Promotion pneus d'hiver",
                send_at=datetime.now(UTC) + timedelta(days=7),
            )
            # An opt-out by keyword from a third phone.
            inbound.receive(f"SMstop{key}", no_consent.mobile_phone, number, "STOP")
            # A campaign prepared (its messages, a refusal among them) and a draft.
            prepared = new_campaign(company.id, "Pneus d'hiver: 10 % de rabais", name="Hiver")
            campaigns.prepare(prepared)
            new_campaign(company.id, "Mise au point du printemps", name="Printemps" + "x" * 90)
        assert db.session.query(SmsMessage).count() >= 16


@pytest.fixture(autouse=True)
def clock(time_machine):
    """A weekday morning, shop time, whatever the hour of the run: the campaign's fan-out
    and the texts' states do not depend on the night (``campaigns.support.daytime``)."""
    daytime(time_machine)


def walk(page, serve, app, shops, email: str, language: str, key: str, operator=False):
    add_everything(app, shops)
    base = serve(app)
    page.set_viewport_size({"width": WIDTHS[0], "height": 800})
    log_in(page, base, email, language)
    english = english_strings() if language == "fr" else None
    codes = raw_codes()
    problems: list[str] = []

    def check(path: str) -> None:
        problems.extend(problems_on(page, path, english, codes))

    visited = crawl(page, base, ["/"], check) if operator else []
    if operator:
        page.goto(base + "/")
        page.locator(f"form[action$='/shops/{shops[key]['shop']}/pick'] button").click()
    shop = shops[key]
    starts = ["/", f"/customers/{shop['customer']}", f"/sms/customers/{shop['customer']}"]
    starts += [f"/appointments/{shop['appointment']}", f"/invoices/{shop['invoice']}"]
    starts += [f"/companies/{shop['shop']}", "/customers/new", "/appointments/new"]
    visited += crawl(page, base, [*starts, "/customers?q=cote"], check)
    return visited, problems


def test_the_quebec_shop_reads_french_everywhere(page, serve, app, shops):
    visited, problems = walk(page, serve, app, shops, shops["a"]["admin"], "fr", "a")
    assert len(visited) > 20, visited
    assert any(p.startswith("/reports/") and len(p) > 9 for p in visited), visited
    assert any(p.startswith("/sms/replies/") for p in visited), visited
    assert any(re.fullmatch(r"/sms/campaigns/\d+", p) for p in visited), visited
    assert problems == [], "\n".join(problems)


def test_the_ontario_shop_sees_no_code_timestamp_or_overflow(page, serve, app, shops):
    visited, problems = walk(page, serve, app, shops, shops["b"]["admin"], "en", "b")
    assert len(visited) > 20, visited
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_operators_pages_show_no_code_timestamp_or_overflow(page, serve, app, shops, language):
    visited, problems = walk(
        page, serve, app, shops, "operator@example.com", language, "a", operator=True
    )
    assert len(visited) > 20, visited
    assert problems == [], "\n".join(problems)


def test_the_watch_sees_each_kind_of_problem(page, serve, app):
    """The checks above would see English, a timestamp, a code and a page too wide."""
    probe = (
        "<!doctype html><body><p>Customer management 2026-01-05T09:30:00 first_contact</p>"
        f"<table><tr><td>delivered</td><td>{LONG_WORD}</td></tr></table></body>"
    )
    app.add_url_rule("/walk-probe", "walk_probe", lambda: probe)
    base = serve(app)
    page.goto(f"{base}/walk-probe")
    found = problems_on(page, "/walk-probe", english_strings(), raw_codes())
    kinds = {line.split(": ", 1)[1].split(" ")[0] for line in found}
    assert kinds >= {"English", "ISO", "code", "raw"}, found
    assert any("wider than" in line for line in found), found
