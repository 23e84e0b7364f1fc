"""Customers (``host/views/customers.py``): created with an E.164 phone, edited, searched,
bad input refused, plugin fields on the Customer Information tab."""

from __future__ import annotations

import re

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


def add_customers(app, shop_id: int, *names: tuple[str, str]) -> None:
    """Add customers ``(first name, last name)`` to shop ``shop_id`` through the ORM."""
    with app.app_context():
        for first, last in names:
            db.session.add(Customer(company_id=shop_id, first_name=first, last_name=last))
        db.session.commit()


def found_names(client, q: str) -> set[str]:
    """Return the names the customer search lists for ``q``."""
    html = client.get("/customers/", query_string={"q": q}).text
    return set(re.findall(r'href="/customers/\d+">([^<]+)</a>', html))


@pytest.mark.parametrize("typed", ["cote", "COTE", "Côté", "côte", "  cOtÉ "])
def test_customer_search_ignores_accents_and_case(admin, app, shops, typed):
    # Issue 12 point 5: "cote" finds "Côté", on SQLite and PostgreSQL alike.
    add_customers(app, shops["a"]["shop"], ("Émilie", "Côté"), ("Luc", "Coteau"), ("Paul", "Roy"))
    assert found_names(admin, typed) == {"Émilie Côté", "Luc Coteau"}


def test_customer_search_finds_first_and_last_name_together_without_accents(admin, app, shops):
    add_customers(app, shops["a"]["shop"], ("Émilie", "Côté"), ("Émile", "Roy"))
    assert found_names(admin, "emilie cote") == {"Émilie Côté"}
    assert found_names(admin, "EMIL") == {"Émilie Côté", "Émile Roy"}
    # Each word, in any order: the last name typed first finds the customer too.
    assert found_names(admin, "cote emilie") == {"Émilie Côté"}
    assert found_names(admin, "  roy   EMILE ") == {"Émile Roy"}
    assert found_names(admin, "cote roy") == set()


@pytest.mark.parametrize(
    ("typed", "names", "expected"),
    [
        # A typed % or _ is a character, not a LIKE wildcard (issue 12 point 5).
        ("50%", [("Promo", "500"), ("Promo", "50% off")], {"Promo 50% off"}),
        ("a_b", [("Client", "axb"), ("Client", "a_b")], {"Client a_b"}),
        ("%", [("Client", "Plain")], set()),
        ("_", [("Client", "Plain")], set()),
        ("\\", [("Client", "Plain"), ("Client", "Back\\slash")], {"Client Back\\slash"}),
    ],
)
def test_customer_search_takes_wildcards_literally(admin, app, shops, typed, names, expected):
    add_customers(app, shops["a"]["shop"], *names)
    assert found_names(admin, typed) == expected


def test_customer_search_keeps_up_with_edits_and_stays_in_the_shop(admin, app, shops):
    url = f"/customers/{shops['a']['customer']}"
    assert admin.post(url, data={**CUSTOMER, "last_name": "Bélanger"}).status_code == 302
    assert found_names(admin, "belanger") == {"Marie Bélanger"}
    assert found_names(admin, "client") == set()  # the old name is no longer found
    add_customers(app, shops["b"]["shop"], ("Marie", "Bélanger"))
    assert found_names(admin, "belanger") == {"Marie Bélanger"}  # shop A's only
    with app.app_context():
        stored = db.session.get(Customer, shops["a"]["customer"]).search_text
        assert stored == "marie belanger marie@example.com +15145550199"


def test_customer_search_by_phone_and_email(admin, app, shops):
    assert found_names(admin, "(514) 555-0101") == {"Client A"}
    assert found_names(admin, "5550101") == {"Client A"}
    admin.post("/customers/new", data={**CUSTOMER, "email": "Marie.Cote@Example.com"})
    assert found_names(admin, "marie.cote@example") == {"Marie Tremblay"}
