"""Customers (``host/views/customers.py``): created with an E.164 phone, edited, searched,
bad input refused, plugin fields on the Customer Information tab."""

from __future__ import annotations

import pytest

from host.extensions import db
from host.models import Customer
from tests.host.support_views import CUSTOMER, assert_refused
from tests.support_pages import CODE_ERROR, row_counts


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


def test_customer_information_tab_shows_plugin_fields(plugin_admin, shops, pages_plugin):
    app, client = plugin_admin
    assert 'id="fleet-code"' in client.get(f"/customers/{shops['a']['customer']}").text
    before = row_counts(app)
    response = client.post("/customers/new", data={**CUSTOMER, "fleet-code": "X-1"})
    assert_refused(app, response, before, CODE_ERROR)
    assert 'value="X-1"' in response.text  # the user's input stays in the form
    assert pages_plugin.applied == []
    response = client.post("/customers/new", data={**CUSTOMER, "fleet-code": "F-7"})
    assert response.status_code == 302
    assert pages_plugin.applied == [(int(response.location.rsplit("/", 1)[1]), "F-7")]
