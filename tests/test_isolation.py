"""Shop isolation: a shop-A user gets 404 for every shop-B object, on every URL rule.

The sweep walks ``app.url_map``, so a plugin's new route is covered the day it is added.
A rule argument the sweep cannot fill fails the test: add it to ``SHOP_IDS`` (an object of
the ``shops`` fixture), ``MAKERS`` (a function that creates the object in a shop) or
``NOT_AN_OBJECT`` (a value that names no shop's data).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Blueprint
from flask_login import login_required

from host import hookimpl
from host.access import get_in_shop_or_404
from host.extensions import db
from host.models import (
    Appointment,
    Company,
    Customer,
    Invoice,
    LegacySmsLog,
    User,
)
from tests.conftest import login

MARK = "bsecret"  # every text of shop B carries it: it must never reach shop A's pages
B_PHONE = "+14165550102"

# Argument name -> the key of the object's id in the ``shops`` fixture.
SHOP_IDS = {
    "company_id": "shop",
    "customer_id": "customer",
    "appointment_id": "appointment",
    "invoice_id": "invoice",
    "user_id": "staff_id",
    "legacy_id": "legacy",
}
# Arguments that name no shop's object, with a value that reaches the view.
NOT_AN_OBJECT = {
    "filename": "style.css",  # static files
    "code": "en",  # the language switch
    "name": "legacy_sent_sms_log",  # a report's name; its rows are checked by the list test
    "event": "welcome",  # an SMS template's event: the shop is the user's own, by design
    "language": "fr",  # an SMS template's language
}
# Arguments naming a platform-wide object (the operator's, no shop's), with a value: a shop
# user gets 403 or 404 for them, never the page.
PLATFORM_IDS = {
    "number_id": 1,  # a sender number, shared by every shop
}
# Rules checked by their own tests instead (endpoint -> why).
EXEMPT: dict[str, str] = {
    "reports.detail": "a report row's detail: its isolation is in tests/sms_module/reports/",
}


def make_sms_message(shop: dict) -> int:
    """Create an SMS of the shop to its customer (the SMS plugin's model)."""
    from plugins.sms_module.models import SmsMessage

    message = SmsMessage(
        company_id=shop["shop"],
        customer_id=shop["customer"],
        phone=shop["phone"],
        body=f"Hello {shop['mark']}",
    )
    db.session.add(message)
    db.session.commit()
    return message.id


def make_api_token(shop: dict) -> int:
    """Create a REST API token of the shop (the SMS plugin's model)."""
    from plugins.sms_module.api import tokens

    row, text = tokens.create_token(shop["shop"], f"Token {shop['mark']}", None)
    shop["api_token"] = text
    return row.id


def make_reply(shop: dict) -> str:
    """Create a customer's reply to the shop; return the phone naming its conversation."""
    from plugins.sms_module.models import SmsMessage
    from plugins.sms_module.models.statuses import Status

    reply = SmsMessage(
        company_id=shop["shop"],
        customer_id=shop["customer"],
        direction="inbound",
        kind="inbound",
        phone=shop["phone"],
        body=f"Reply {shop['mark']}",
        status=Status.RECEIVED,
    )
    db.session.add(reply)
    db.session.commit()
    return shop["phone"]


def make_campaign(shop: dict) -> int:
    """Create an SMS campaign of the shop (the SMS plugin's model)."""
    from host.models import utcnow
    from plugins.sms_module.models import SmsCampaign

    campaign = SmsCampaign(
        company_id=shop["shop"],
        name=f"Campaign {shop['mark']}",
        body=f"Sale {shop['mark']}",
        send_at=utcnow(),
    )
    db.session.add(campaign)
    db.session.commit()
    return campaign.id


# Argument name -> a function that creates the object in a shop and returns its id.
MAKERS: dict[str, Callable[[dict], int | str]] = {
    "message_id": make_sms_message,
    "token_id": make_api_token,
    "phone": make_reply,  # a conversation of the reply page
    "campaign_id": make_campaign,
}


def api_headers(shop: dict) -> dict:
    """Authenticate as the shop through a REST API token."""
    if "api_token" not in shop:
        make_api_token(shop)
    return {"Authorization": f"Bearer {shop['api_token']}"}


# Blueprints that authenticate otherwise than by the login session -> the shop-A headers.
AUTHENTICATION: dict[str, Callable[[dict], dict]] = {"sms_api": api_headers}

probe = Blueprint("isolation_probe", __name__, url_prefix="/isolation-probe")


@probe.route("/invoices/<int:invoice_id>", methods=["GET", "POST"])
@login_required
def probe_invoice(invoice_id: int) -> str:
    """Show an invoice the way a plugin's page would."""
    return f"Invoice {get_in_shop_or_404(Invoice, invoice_id).number}"


class ProbePlugin:
    """A plugin with one page, to prove the sweep covers plugins' routes."""

    __name__ = "isolation-probe"

    @hookimpl
    def register_blueprints(self):
        return [probe]


@pytest.fixture
def marked(shops, app):
    """Put the mark into every text of shop B."""
    with app.app_context():
        b = shops["b"]
        db.session.get(Company, b["shop"]).name = f"Garage {MARK}"
        customer = db.session.get(Customer, b["customer"])
        customer.first_name, customer.email = f"Client {MARK}", f"{MARK}@example.com"
        db.session.get(Appointment, b["appointment"]).vehicle = f"Truck {MARK}"
        db.session.get(Invoice, b["invoice"]).number = f"{MARK}-1"
        db.session.get(User, b["staff_id"]).name = f"Staff {MARK}"
        db.session.get(User, b["admin_id"]).name = f"Admin {MARK}"
        db.session.get(LegacySmsLog, b["legacy"]).body = f"Old {MARK}"
        db.session.commit()
    return shops


def shop_b_snapshot(app, b: dict) -> tuple:
    """Read what a leaking POST could change in shop B."""
    with app.app_context():
        db.session.expire_all()
        company = db.session.get(Company, b["shop"])
        customer = db.session.get(Customer, b["customer"])
        appointment = db.session.get(Appointment, b["appointment"])
        invoice = db.session.get(Invoice, b["invoice"])
        staff = db.session.get(User, b["staff_id"])
        return (
            (company.name, company.province, company.v2v_number),
            (customer.first_name, customer.mobile_phone),
            (appointment.status, appointment.starts_at, appointment.vehicle),
            (invoice.number, invoice.total, invoice.print_count),
            (staff.email, staff.role, staff.active),
        )


def assert_no_shop_b_data(body: str, where: str) -> None:
    lowered = body.lower()
    assert MARK not in lowered, f"{where} shows shop B's data"
    assert B_PHONE not in body and "(416) 555-0102" not in body, f"{where} shows B's phone"


def test_every_rule_answers_404_for_shop_b_objects(make_app, marked):
    app = make_app(PLUGINS_EXTRA=[ProbePlugin()])
    client = app.test_client()
    login(client, marked["a"]["admin"])
    rules = [
        rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in EXEMPT and set(rule.arguments) - set(NOT_AN_OBJECT)
    ]
    unknown = [
        f"{rule.rule} ({rule.endpoint}): {arg}"
        for rule in rules
        for arg in sorted(rule.arguments)
        if not any(arg in known for known in (NOT_AN_OBJECT, SHOP_IDS, MAKERS, PLATFORM_IDS))
    ]
    assert not unknown, (
        "The isolation sweep cannot fill these URL arguments; add each to SHOP_IDS, MAKERS, "
        "PLATFORM_IDS or NOT_AN_OBJECT (or the endpoint to EXEMPT with a reason) in "
        "tests/test_isolation.py:\n" + "\n".join(unknown)
    )
    ids, headers = {}, {}
    with app.app_context():
        for key, phone, mark in (("a", "+15145550101", "shop a"), ("b", B_PHONE, MARK)):
            shop = {**marked[key], "phone": phone, "mark": mark}
            needed = {arg for rule in rules for arg in rule.arguments if arg in MAKERS}
            ids[key] = {arg: marked[key][name] for arg, name in SHOP_IDS.items()}
            ids[key].update({arg: MAKERS[arg](shop) for arg in sorted(needed)})
            if key == "a":
                headers = {bp: auth(shop) for bp, auth in AUTHENTICATION.items()}
    before = shop_b_snapshot(app, marked["b"])
    swept = set()
    for rule in rules:
        auth = headers.get(rule.endpoint.rpartition(".")[0], {})
        if platform := set(rule.arguments) & set(PLATFORM_IDS):
            values = {**NOT_AN_OBJECT, **ids["b"], **PLATFORM_IDS}
            _domain, path = rule.build({arg: values[arg] for arg in rule.arguments})
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                response = client.open(path, method=method, headers=auth)
                where = f"{method} {path} ({rule.endpoint}, platform-wide {sorted(platform)})"
                assert response.status_code in (403, 404), f"{where}: {response.status_code}"
            swept.add(rule.endpoint)
            continue
        for shop in ("b", "a"):
            values = {arg: NOT_AN_OBJECT.get(arg, ids[shop].get(arg)) for arg in rule.arguments}
            _domain, path = rule.build(values)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                where = f"{method} {path} ({rule.endpoint})"
                if shop == "b":
                    response = client.open(path, method=method, headers=auth)
                    assert response.status_code == 404, f"{where}: {response.status_code}"
                    assert_no_shop_b_data(response.get_data(as_text=True), where)
                elif method == "GET":
                    # Shop A's own object answers: the 404 above comes from isolation.
                    response = client.open(path, method=method, headers=auth)
                    assert response.status_code != 404, f"{where}: shop A's own object is 404"
        swept.add(rule.endpoint)
    assert {"isolation_probe.probe_invoice", "customers.show", "invoices.print_invoice"} <= swept
    assert shop_b_snapshot(app, marked["b"]) == before, "a shop-A request changed shop B"


def test_operator_users_are_invisible_to_shop_admins(client, marked, app):
    with app.app_context():
        operator_id = db.session.query(User.id).filter_by(email="operator@example.com").scalar()
    login(client, marked["a"]["admin"])
    assert client.get(f"/users/{operator_id}").status_code == 404
    assert client.post(f"/users/{operator_id}", data={"role": "staff"}).status_code == 404


@pytest.mark.parametrize("who", ["admin", "staff"])
def test_lists_show_only_the_users_shop(client, marked, app, who):
    login(client, marked["a"][who])
    pages = ["/", "/customers/", "/appointments/", "/invoices/", "/reports/"]
    pages += ["/customers/?q=example", "/customers/?q=416", "/customers/?q=Client"]
    pages += [f"/customers/{marked['a']['customer']}/{tab}" for tab in ("appointments", "invoices")]
    if who == "admin":
        pages.append("/users/")
    for name in app.extensions["reports"]:
        pages += [f"/reports/{name}", f"/reports/{name}.csv"]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_no_shop_b_data(response.get_data(as_text=True), url)
    # The lists do show shop A's own rows: the check above is not vacuous.
    assert "Client A" in client.get("/customers/").text
    assert "a-1" in client.get("/invoices/").text
    assert "+15145550101" in client.get("/reports/legacy_sent_sms_log.csv").text


def test_appointment_and_invoice_forms_offer_only_the_shop_customers(client, marked):
    login(client, marked["a"]["admin"])
    for url in [
        "/appointments/new",
        "/invoices/new",
        f"/appointments/{marked['a']['appointment']}",
    ]:
        body = client.get(url).text
        assert "Client A" in body
        assert_no_shop_b_data(body, url)
