"""The host's pages: every page answers, valid forms save, bad input gets a message (422)
and writes nothing, roles are checked, CSRF is enforced, the operator picks and creates shops."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import quote

import pytest

from host.extensions import db
from host.models import (
    Appointment,
    AppointmentStatus,
    Company,
    CompanyOption,
    Customer,
    Invoice,
    User,
)
from tests.conftest import PASSWORD, login
from tests.support_pages import (
    CODE_ERROR,
    OPTION_FREE,
    OPTION_REFUSED,
    REFUSAL,
    PagesPlugin,
    csrf_token,
    page_text,
    row_counts,
)

PAGES = [
    "/",
    "/customers/",
    "/customers/new",
    "/customers/{customer}",
    "/customers/{customer}/appointments",
    "/customers/{customer}/invoices",
    "/appointments/",
    "/appointments/new",
    "/appointments/{appointment}",
    "/invoices/",
    "/invoices/new",
    "/invoices/{invoice}",
    "/invoices/{invoice}/printable",
    "/reports/",
]
ADMIN_PAGES = [
    "/users/",
    "/users/new",
    "/users/{staff_id}",
    "/companies/{shop}",
    "/companies/{shop}/options",
]


def as_utc(value: datetime) -> datetime:
    """Read a stored time as UTC (SQLite gives it back without its zone)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@pytest.fixture
def admin(client, shops):
    """Shop A's administrator, logged in, reading English."""
    login(client, shops["a"]["admin"])
    client.get("/language/en")
    return client


@pytest.fixture
def plugin():
    return PagesPlugin()


@pytest.fixture
def plugin_admin(make_app, shops, plugin):
    """Shop A's administrator on an application with the pages test plugin."""
    app = make_app(PLUGINS_EXTRA=[plugin])
    client = app.test_client()
    login(client, shops["a"]["admin"])
    client.get("/language/en")
    return app, client


def assert_refused(app, response, before: dict, message: str) -> None:
    """Check a POST answered 422 with ``message`` on the page and wrote no row."""
    text = page_text(response)
    assert response.status_code == 422, text[:2000]
    assert message in text
    assert "Traceback" not in text
    assert row_counts(app) == before


# -- reaching the pages -------------------------------------------------------------


def test_admin_reaches_every_page(admin, shops):
    for url in PAGES + ADMIN_PAGES:
        response = admin.get(url.format(**shops["a"]))
        assert response.status_code == 200, (url, response.text[:1000])


def test_staff_reaches_shop_pages_but_not_admin_pages(client, shops):
    login(client, shops["a"]["staff"])
    for url in PAGES:
        assert client.get(url.format(**shops["a"])).status_code == 200, url
    for url in [*ADMIN_PAGES, "/company", "/companies/new"]:
        response = client.get(url.format(**shops["a"]))
        assert response.status_code == 403, url
        assert "Traceback" not in response.text
    assert client.post(f"/users/{shops['a']['staff_id']}", data={}).status_code == 403


def test_admin_may_not_create_shops(admin, app):
    before = row_counts(app)
    assert admin.get("/companies/new").status_code == 403
    assert admin.post("/companies/new", data={"name": "Mine"}).status_code == 403
    assert row_counts(app) == before


def test_anonymous_is_sent_to_login(client, shops):
    for url in PAGES[1:] + ADMIN_PAGES:
        response = client.get(url.format(**shops["a"]))
        assert response.status_code == 302, url
        assert response.location.startswith("/login?next="), url
    assert client.get("/").status_code == 302


def test_huge_or_unknown_ids_are_404(admin):
    for url in ["/customers/99999999999999999999", "/invoices/2147483648", "/customers/424242"]:
        response = admin.get(url)
        assert response.status_code == 404, url
        assert "This page does not exist" in page_text(response)


def test_nul_bytes_are_refused_before_any_view(admin, app):
    before = row_counts(app)
    for response in [
        admin.get("/customers/?q=%00"),
        admin.get("/reports/legacy_sent_sms_log?phone=%00"),
        admin.post("/customers/new", data={**CUSTOMER, "last_name": "Nul\x00"}),
    ]:
        assert response.status_code == 400
        assert "Remove the invisible control characters." in page_text(response)
    assert row_counts(app) == before


# -- logging in -------------------------------------------------------------------


def test_login_refuses_a_wrong_password(client, shops):
    response = client.post("/login", data={"email": shops["a"]["admin"], "password": "nope"})
    assert response.status_code == 422
    assert "Wrong e-mail or password." in page_text(response)
    assert client.get("/customers/").status_code == 302


def test_login_follows_local_next_only(client, shops):
    data = {"email": shops["a"]["admin"], "password": PASSWORD}
    assert client.post("/login?next=/invoices/", data=data).location == "/invoices/"
    client.post("/logout")
    for target in ["//evil.example/", "/\\evil.example", "https://evil.example/", "/\r\nX:1"]:
        client.post("/logout")
        response = client.post(f"/login?next={quote(target)}", data=data)
        assert response.location == "/", target
    for target in ["//evil.example/", "/\\evil.example", "/\r\nSet-Cookie:x=1"]:
        assert client.get(f"/language/en?next={quote(target)}").location == "/", target


def test_logout_ends_the_session(admin):
    assert admin.post("/logout").status_code == 302
    assert admin.get("/customers/").status_code == 302


# -- Company management and the Options tab ------------------------------------------

COMPANY = {"name": "Garage A2", "v2v_number": "V2V-9", "country": "US", "province": "NY"}


def test_company_saves_and_shows_its_time_zone(admin, app, shops):
    url = f"/companies/{shops['a']['shop']}"
    response = admin.post(url, data={**COMPANY, "language": "en"})
    assert response.status_code == 302
    page = admin.get(url)
    assert "America/New_York" in page.text
    with app.app_context():
        company = db.session.get(Company, shops["a"]["shop"])
        assert (company.name, company.country, company.province) == ("Garage A2", "US", "NY")
        assert company.time_zone == "America/New_York"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": ""}, "This field is required."),
        ({"name": "x" * 201}, "Field cannot be longer than 200 characters."),
        ({"v2v_number": "9" * 51}, "Field cannot be longer than 50 characters."),
        ({"province": "QC"}, "Pick a province or state of the chosen country."),
        ({"country": "", "province": "QC"}, "Pick a province or state of the chosen country."),
        ({"country": "FR"}, "Pick a country from the list."),
        ({"language": "de"}, "Not a valid choice."),
        ({"name": "Garage\x07"}, "Remove the invisible control characters."),
    ],
)
def test_company_refuses_bad_input(admin, app, shops, change, message):
    before = row_counts(app)
    url = f"/companies/{shops['a']['shop']}"
    assert_refused(
        app, admin.post(url, data={**COMPANY, "language": "en", **change}), before, message
    )
    with app.app_context():
        company = db.session.get(Company, shops["a"]["shop"])
        assert (company.name, company.province) == ("Garage A", "QC")


def test_options_tab_saves_an_option(plugin_admin, shops):
    app, client = plugin_admin
    url = f"/companies/{shops['a']['shop']}/options"
    assert f"{OPTION_FREE} - Free option" in client.get(url).text
    response = client.post(url, data={f"option-{OPTION_FREE}": "on"})
    assert response.status_code == 302
    assert f'id="option-{OPTION_FREE}" name="option-{OPTION_FREE}"\n' in client.get(url).text
    with app.app_context():
        row = db.session.get(CompanyOption, (shops["a"]["shop"], OPTION_FREE))
        assert row.enabled
    assert client.post(url, data={}).status_code == 302
    with app.app_context():
        assert not db.session.get(CompanyOption, (shops["a"]["shop"], OPTION_FREE)).enabled


def test_options_tab_shows_a_refusal_and_saves_nothing(plugin_admin, shops):
    app, client = plugin_admin
    before = row_counts(app)
    data = {f"option-{OPTION_FREE}": "on", f"option-{OPTION_REFUSED}": "on"}
    response = client.post(f"/companies/{shops['a']['shop']}/options", data=data)
    assert_refused(app, response, before, REFUSAL)


# -- customers ----------------------------------------------------------------------

CUSTOMER = {
    "first_name": "Marie",
    "last_name": "Tremblay",
    "mobile_phone": "514 555 0199",
    "email": "marie@example.com",
    "language": "fr",
}


def test_customer_is_created_with_an_e164_phone(admin, app):
    response = admin.post("/customers/new", data=CUSTOMER)
    assert response.status_code == 302
    with app.app_context():
        customer = db.session.get(Customer, int(response.location.rsplit("/", 1)[1]))
        assert customer.mobile_phone == "+15145550199"
        assert (customer.full_name, customer.language) == ("Marie Tremblay", "fr")
    assert "(514) 555-0199" in admin.get("/customers/").text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"first_name": ""}, "This field is required."),
        ({"first_name": "   "}, "This field is required."),
        ({"first_name": "x" * 101}, "Field cannot be longer than 100 characters."),
        ({"last_name": "x" * 101}, "Field cannot be longer than 100 characters."),
        ({"mobile_phone": "123"}, "Enter a valid phone number, e.g. 514 555 0123."),
        ({"mobile_phone": "call me"}, "Enter a valid phone number, e.g. 514 555 0123."),
        ({"mobile_phone": "5" * 41}, "A phone number has 40 characters at most."),
        ({"email": "not-an-email"}, "Invalid email address."),
        ({"email": "a" * 250 + "@example.com"}, "Field cannot be longer than 254 characters."),
        ({"language": "de"}, "Not a valid choice."),
        ({"last_name": "Bell\x07"}, "Remove the invisible control characters."),
    ],
)
def test_customer_refuses_bad_input(admin, app, shops, change, message):
    before = row_counts(app)
    assert_refused(app, admin.post("/customers/new", data={**CUSTOMER, **change}), before, message)
    url = f"/customers/{shops['a']['customer']}"
    assert_refused(app, admin.post(url, data={**CUSTOMER, **change}), before, message)
    with app.app_context():
        customer = db.session.get(Customer, shops["a"]["customer"])
        assert (customer.first_name, customer.mobile_phone) == ("Client", "+15145550101")


def test_customer_edit_saves(admin, app, shops):
    url = f"/customers/{shops['a']['customer']}"
    response = admin.post(url, data={**CUSTOMER, "mobile_phone": "+1 (438) 555-0123"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Customer, shops["a"]["customer"]).mobile_phone == "+14385550123"


def test_customer_search(admin, app):
    admin.post("/customers/new", data=CUSTOMER)
    found = admin.get("/customers/?q=tremb").text
    assert "Marie Tremblay" in found and "Client A" not in found
    assert "Client A" in admin.get("/customers/?q=514-555-0101").text
    assert "No customer found." in admin.get("/customers/?q=nobody").text


def test_customer_information_tab_shows_plugin_fields(plugin_admin, shops, plugin):
    app, client = plugin_admin
    assert 'id="fleet-code"' in client.get(f"/customers/{shops['a']['customer']}").text
    before = row_counts(app)
    response = client.post("/customers/new", data={**CUSTOMER, "fleet-code": "X-1"})
    assert_refused(app, response, before, CODE_ERROR)
    assert 'value="X-1"' in response.text  # the user's input stays in the form
    assert plugin.applied == []
    response = client.post("/customers/new", data={**CUSTOMER, "fleet-code": "F-7"})
    assert response.status_code == 302
    assert plugin.applied == [(int(response.location.rsplit("/", 1)[1]), "F-7")]


# -- appointments ---------------------------------------------------------------------


def appointment_form(shops, **change) -> dict:
    form = {
        "customer_id": shops["a"]["customer"],
        "starts_at": "2031-03-04T09:30",
        "vehicle": "Corolla 2020",
        "status": "booked",
    }
    return {**form, **change}


def test_appointment_is_booked_in_the_shop_time_zone(plugin_admin, shops, plugin):
    app, client = plugin_admin
    response = client.post("/appointments/new", data=appointment_form(shops))
    assert response.status_code == 302
    appointment_id = int(response.location.rsplit("/", 1)[1])
    with app.app_context():
        appointment = db.session.get(Appointment, appointment_id)
        # Quebec is five hours behind UTC in early March.
        assert as_utc(appointment.starts_at) == datetime(2031, 3, 4, 14, 30, tzinfo=UTC)
        assert appointment.company_id == shops["a"]["shop"]
    assert [(i, created) for i, _c, created in plugin.appointments] == [(appointment_id, True)]
    assert "2031-03-04T09:30" in client.get(response.location).text


def test_appointment_is_moved_its_status_changed_and_cancelled(admin, app, shops):
    url = f"/appointments/{shops['a']['appointment']}"
    form = appointment_form(shops, starts_at="2031-07-01T08:00", status="ready")
    assert admin.post(url, data=form).status_code == 302
    with app.app_context():
        appointment = db.session.get(Appointment, shops["a"]["appointment"])
        assert as_utc(appointment.starts_at) == datetime(2031, 7, 1, 12, 0, tzinfo=UTC)
        assert appointment.status == AppointmentStatus.READY
    assert "Ready" in admin.get("/appointments/").text
    assert admin.post(f"{url}/cancel").status_code == 302
    with app.app_context():
        appointment = db.session.get(Appointment, shops["a"]["appointment"])
        assert appointment.status == AppointmentStatus.CANCELLED


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"customer_id": "b"}, "Not a valid choice."),
        ({"customer_id": "abc"}, "Invalid Choice: could not coerce."),
        ({"customer_id": ""}, "This field is required."),
        ({"starts_at": ""}, "This field is required."),
        ({"starts_at": "tomorrow"}, "Not a valid datetime value."),
        ({"starts_at": "2031-02-30T10:00"}, "Not a valid datetime value."),
        ({"starts_at": "9999-12-31T23:59"}, "Enter a year between 1900 and 2999."),
        ({"starts_at": "0001-01-01T00:00"}, "Enter a year between 1900 and 2999."),
        ({"status": "exploded"}, "Not a valid choice."),
        ({"vehicle": "x" * 201}, "Field cannot be longer than 200 characters."),
    ],
)
def test_appointment_refuses_bad_input(admin, app, shops, change, message):
    if change.get("customer_id") == "b":
        change = {"customer_id": shops["b"]["customer"]}  # a customer of another shop
    before = row_counts(app)
    form = appointment_form(shops, **change)
    assert_refused(app, admin.post("/appointments/new", data=form), before, message)
    url = f"/appointments/{shops['a']['appointment']}"
    assert_refused(app, admin.post(url, data=form), before, message)
    with app.app_context():
        appointment = db.session.get(Appointment, shops["a"]["appointment"])
        assert (appointment.vehicle, appointment.status) == ("Civic 2019", "booked")


# -- invoices -------------------------------------------------------------------------


def test_invoice_is_created_and_printed(plugin_admin, shops, plugin):
    app, client = plugin_admin
    data = {"customer_id": shops["a"]["customer"], "number": "A-100", "total": "99.95"}
    response = client.post("/invoices/new", data=data)
    assert response.status_code == 302
    invoice_id = int(response.location.rsplit("/", 1)[1])
    assert plugin.printed == []
    response = client.post(f"/invoices/{invoice_id}/print")
    assert response.location == f"/invoices/{invoice_id}/printable"
    assert plugin.printed == [(invoice_id, 1)]
    printable = client.get(response.location)
    assert "A-100" in printable.text and "99.95" in printable.text
    with app.app_context():
        invoice = db.session.get(Invoice, invoice_id)
        assert (invoice.total, invoice.print_count) == (Decimal("99.95"), 1)
        assert invoice.printed_at is not None


def test_invoice_numbers_are_unique_per_shop_only(admin, app, shops):
    data = {"customer_id": shops["a"]["customer"], "number": "b-1", "total": "1"}
    assert admin.post("/invoices/new", data=data).status_code == 302


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"number": "a-1"}, "This invoice number is already used."),
        ({"number": ""}, "This field is required."),
        ({"number": "x" * 41}, "Field cannot be longer than 40 characters."),
        ({"total": "-1"}, "Enter an amount between 0 and 9,999,999,999."),
        ({"total": "99999999999"}, "Enter an amount between 0 and 9,999,999,999."),
        ({"total": "abc"}, "Not a valid decimal value."),
        ({"total": "NaN"}, "Enter an amount such as 120.50."),
        ({"total": "Infinity"}, "Enter an amount such as 120.50."),
        ({"total": ""}, "This field is required."),
        ({"customer_id": "b"}, "Not a valid choice."),
        ({"customer_id": "999999"}, "Not a valid choice."),
    ],
)
def test_invoice_refuses_bad_input(admin, app, shops, change, message):
    if change.get("customer_id") == "b":
        change = {"customer_id": shops["b"]["customer"]}
    before = row_counts(app)
    data = {"customer_id": shops["a"]["customer"], "number": "A-200", "total": "10", **change}
    assert_refused(app, admin.post("/invoices/new", data=data), before, message)


# -- users and roles ------------------------------------------------------------------

USER = {"email": "New.Person@Example.com", "name": "New", "role": "staff", "password": "longenough"}


def test_user_is_created_in_the_admin_shop(admin, app, shops):
    response = admin.post("/users/new", data={**USER, "active": "y"})
    assert response.status_code == 302
    with app.app_context():
        user = db.session.query(User).filter_by(email="new.person@example.com").one()
        assert (user.company_id, user.role, user.active) == (shops["a"]["shop"], "staff", True)
    assert "new.person@example.com" in admin.get("/users/").text
    client = app.test_client()
    login(client, "new.person@example.com", "longenough")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"email": "STAFF-A@example.com"}, "Another user already has this e-mail."),
        ({"email": "admin-b@example.com"}, "Another user already has this e-mail."),
        ({"email": "nobody"}, "Invalid email address."),
        ({"email": ""}, "This field is required."),
        ({"password": ""}, "Give the new user a password (8 characters or more)."),
        ({"password": "short"}, "Field must be between 8 and 200 characters long."),
        ({"role": "operator"}, "Not a valid choice."),
        ({"name": "x" * 201}, "Field cannot be longer than 200 characters."),
    ],
)
def test_user_form_refuses_bad_input(admin, app, change, message):
    before = row_counts(app)
    assert_refused(app, admin.post("/users/new", data={**USER, **change}), before, message)


def test_user_edit_saves_and_admin_cannot_lock_themselves_out(admin, app, shops):
    url = f"/users/{shops['a']['staff_id']}"
    data = {"email": shops["a"]["staff"], "name": "Renamed", "role": "admin", "active": "y"}
    assert admin.post(url, data=data).status_code == 302
    with app.app_context():
        assert db.session.get(User, shops["a"]["staff_id"]).role == "admin"
    before = row_counts(app)
    mine = {"email": shops["a"]["admin"], "name": "Me", "role": "staff", "active": "y"}
    message = "You cannot take away your own administrator access."
    assert_refused(app, admin.post(f"/users/{shops['a']['admin_id']}", data=mine), before, message)
    with app.app_context():
        assert db.session.get(User, shops["a"]["admin_id"]).role == "admin"


# -- CSRF -----------------------------------------------------------------------------


def test_csrf_refuses_a_post_without_token_with_a_friendly_page(make_app, shops):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    response = client.post("/login", data={"email": shops["a"]["admin"], "password": PASSWORD})
    assert response.status_code == 400
    text = page_text(response)
    assert "Traceback" not in text
    assert "This form has expired or did not come from this site." in text or "expiré" in text


def test_csrf_real_form_flow_works(make_app, shops):
    app = make_app(WTF_CSRF_ENABLED=True)
    client = app.test_client()
    token = csrf_token(client.get("/login"))
    data = {"email": shops["a"]["admin"], "password": PASSWORD, "csrf_token": token}
    assert client.post("/login", data=data).status_code == 302
    before = row_counts(app)
    token = csrf_token(client.get("/customers/new"))
    response = client.post("/customers/new", data={**CUSTOMER, "csrf_token": token})
    assert response.status_code == 302
    assert row_counts(app)["Customer"] == before["Customer"] + 1
    assert client.post("/customers/new", data=CUSTOMER).status_code == 400
    assert row_counts(app)["Customer"] == before["Customer"] + 1


# -- the operator ---------------------------------------------------------------------


def test_operator_picks_a_shop_then_works_on_it(client, shops):
    login(client, "operator@example.com")
    client.get("/language/en")
    home = client.get("/").text
    assert "Garage A" in home and "Garage B" in home
    response = client.get("/customers/")
    assert response.status_code == 409
    assert "Pick a shop on the start page first." in page_text(response)
    assert client.post(f"/shops/{shops['b']['shop']}/pick").status_code == 302
    customers = client.get("/customers/").text
    assert "Client B" in customers and "Client A" not in customers
    assert "Working on this shop" in client.get("/").text
    assert client.get(f"/companies/{shops['a']['shop']}").status_code == 200
    assert client.post("/shops/424242/pick").status_code == 404


def test_operator_creates_a_shop_french_in_quebec(client, app, shops):
    login(client, "operator@example.com")
    client.get("/language/en")
    data = {"name": "Garage C", "v2v_number": "", "country": "CA", "province": "QC", "language": ""}
    response = client.post("/companies/new", data=data)
    assert response.status_code == 302
    with app.app_context():
        shop = db.session.query(Company).filter_by(name="Garage C").one()
        assert (shop.language, shop.time_zone, shop.v2v_number) == ("fr", "America/Toronto", None)
    data = {**data, "name": "Garage D", "province": "ON"}
    assert client.post("/companies/new", data=data).status_code == 302
    with app.app_context():
        assert db.session.query(Company).filter_by(name="Garage D").one().language == "en"
    before = row_counts(app)
    bad = {**data, "name": "Garage E", "country": "US"}
    message = "Pick a province or state of the chosen country."
    assert_refused(app, client.post("/companies/new", data=bad), before, message)


def test_shop_users_cannot_pick_shops(admin, shops):
    assert admin.post(f"/shops/{shops['a']['shop']}/pick").status_code == 404
