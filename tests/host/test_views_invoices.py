"""Invoices (``host/views/invoices.py``): created, printed (firing ``invoice_printed``),
numbers unique per shop, bad input refused."""

from __future__ import annotations

from decimal import Decimal

import pytest

from host.extensions import db
from host.models import Invoice
from tests.host.support_views import assert_refused
from tests.support_pages import row_counts


def test_invoice_is_created_and_printed(plugin_admin, shops, pages_plugin):
    app, client = plugin_admin
    data = {"customer_id": shops["a"]["customer"], "number": "A-100", "total": "99.95"}
    response = client.post("/invoices/new", data=data)
    assert response.status_code == 302
    invoice_id = int(response.location.rsplit("/", 1)[1])
    assert pages_plugin.printed == []
    response = client.post(f"/invoices/{invoice_id}/print")
    assert response.location == f"/invoices/{invoice_id}/printable"
    assert pages_plugin.printed == [(invoice_id, 1)]
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
