"""The pages in a real browser: logging in, Company management's JavaScript, form errors,
booking, printing, the Options tab and the French interface."""

from __future__ import annotations

import re

import pytest

from host.extensions import db
from host.models import Appointment, CompanyOption, Customer, Invoice
from tests.conftest import PASSWORD
from tests.support_browser import log_in
from tests.support_pages import OPTION_FREE, OPTION_REFUSED, REFUSAL, PagesPlugin

expect = pytest.importorskip("playwright.sync_api").expect


def test_log_in(page, serve, app, shops):
    base = serve(app)
    page.goto(f"{base}/customers/")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.fill("#email", shops["a"]["admin"])
    page.fill("#password", "wrong password")
    page.click("button[type=submit]")
    expect(page.locator(".flash.error")).to_be_visible()
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{base}/customers/")
    expect(page.locator(".shop")).to_have_text("Garage A")


def test_company_province_list_follows_the_country(page, serve, app, shops):
    base = serve(app)
    log_in(page, base, shops["a"]["admin"])
    page.goto(f"{base}/companies/{shops['a']['shop']}")
    expect(page.locator("#time-zone")).to_have_text("America/Toronto")
    page.select_option("#country", "US")
    codes = page.locator("#province option").evaluate_all("options => options.map(o => o.value)")
    assert "NY" in codes and "CA" in codes and "QC" not in codes
    expect(page.locator("#time-zone")).to_have_text("set the country and province")
    page.select_option("#province", "CA")
    expect(page.locator("#time-zone")).to_have_text("America/Los_Angeles")
    page.click("main form button[type=submit]")
    expect(page.locator(".flash")).to_have_text("Company saved.")
    expect(page.locator("#time-zone")).to_have_text("America/Los_Angeles")
    expect(page.locator("#province")).to_have_value("CA")


def test_customer_with_an_invalid_phone_then_fixed(page, serve, app, shops):
    base = serve(app)
    log_in(page, base, shops["a"]["admin"])
    page.goto(f"{base}/customers/new")
    page.fill("#first_name", "Marie")
    page.fill("#last_name", "Tremblay")
    page.fill("#mobile_phone", "555 12")
    page.click("main form button[type=submit]")
    expect(page.locator(".field.has-error .error")).to_have_text(
        "Enter a valid phone number, e.g. 514 555 0123."
    )
    expect(page.locator("#first_name")).to_have_value("Marie")  # the input is kept
    page.fill("#mobile_phone", "514 555 0199")
    page.click("main form button[type=submit]")
    expect(page.locator(".flash")).to_have_text("Customer saved.")
    expect(page.locator("#mobile_phone")).to_have_value("+15145550199")
    with app.app_context():
        customer = db.session.query(Customer).filter_by(last_name="Tremblay").one()
        assert customer.mobile_phone == "+15145550199"


def test_book_an_appointment(page, serve, app, shops):
    base = serve(app)
    log_in(page, base, shops["a"]["staff"])
    page.goto(f"{base}/customers/{shops['a']['customer']}/appointments")
    page.click("text=Book an appointment")
    expect(page.locator("#customer_id")).to_have_value(str(shops["a"]["customer"]))
    page.fill("#starts_at", "2031-05-06T10:15")
    page.fill("#vehicle", "Mazda 3")
    page.click("main form button[type=submit]")
    expect(page.locator(".flash")).to_have_text("Appointment saved.")
    with app.app_context():
        booked = db.session.query(Appointment).filter_by(vehicle="Mazda 3").one()
        assert booked.customer_id == shops["a"]["customer"]
    page.goto(f"{base}/appointments/")
    expect(page.locator("tr", has_text="Mazda 3")).to_contain_text("Booked")


def test_print_an_invoice(page, serve, app, shops):
    base = serve(app)
    log_in(page, base, shops["a"]["staff"])
    page.goto(f"{base}/invoices/")
    page.click("text=a-1")
    expect(page.locator("text=Not printed yet")).to_be_visible()
    page.click("form button:has-text('Print')")
    expect(page).to_have_url(f"{base}/invoices/{shops['a']['invoice']}/printable")
    expect(page.locator("h2")).to_have_text("Invoice a-1")
    page.goto(f"{base}/invoices/{shops['a']['invoice']}")
    expect(page.locator("text=Printed once")).to_be_visible()
    with app.app_context():
        invoice = db.session.get(Invoice, shops["a"]["invoice"])
        assert invoice.print_count == 1 and invoice.printed_at is not None


def test_options_tab(page, serve, make_app, shops):
    app = make_app(PLUGINS_EXTRA=[PagesPlugin()])
    base = serve(app)
    log_in(page, base, shops["a"]["admin"])
    page.goto(f"{base}/companies/{shops['a']['shop']}")
    page.click(".tabs >> text=Options")
    page.check(f"#option-{OPTION_FREE}")
    page.click("main form button[type=submit]")
    expect(page.locator(".flash")).to_have_text("Options saved.")
    expect(page.locator(f"#option-{OPTION_FREE}")).to_be_checked()
    page.check(f"#option-{OPTION_REFUSED}")
    page.click("main form button[type=submit]")
    expect(page.locator(f"#option-row-{OPTION_REFUSED} .error")).to_have_text(REFUSAL)
    with app.app_context():
        assert db.session.get(CompanyOption, (shops["a"]["shop"], OPTION_REFUSED)) is None
        assert db.session.get(CompanyOption, (shops["a"]["shop"], OPTION_FREE)).enabled


def test_switch_to_french(page, serve, app, shops):
    base = serve(app)
    log_in(page, base, shops["b"]["admin"], language=None)  # shop B speaks English
    page.goto(f"{base}/customers/")
    expect(page.locator("h1")).to_have_text("Customer management")
    page.click(".lang >> text=FR")
    expect(page).to_have_url(f"{base}/customers/")
    expect(page.locator("h1")).to_have_text("Gestion des clients")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator(".menu")).to_contain_text("Rendez-vous")
    page.goto(f"{base}/customers/new")
    expect(page.locator("label[for=first_name]")).to_have_text("Prénom")
