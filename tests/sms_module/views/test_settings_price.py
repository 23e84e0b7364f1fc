"""The operator's price form refuses what its column cannot hold (issue 13 §10): a price of
100,000 or more, or more than 5 decimals, is a form error (422), never a 500."""

from __future__ import annotations

from decimal import Decimal

import pytest

from plugins.sms_module.texts import pricing
from tests.support_pages import page_text
from tests.support_sms import login_en


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("100000", "The price per segment must be below 100,000, e.g. 0.0100."),
        ("123456789012", "The price per segment must be below 100,000, e.g. 0.0100."),
        ("1E+30", "The price per segment must be below 100,000, e.g. 0.0100."),
        ("0.123456", "The price per segment has 5 decimals at most."),
        ("0.0000001", "A price per segment above zero is 0.00001 at least."),
        # Rounded to 0 by Decimal.normalize() before: saved as a free price.
        ("1e-99999999", "A price per segment above zero is 0.00001 at least."),
        ("-1e-99999999", "The price per segment cannot be negative."),
        ("1e999999999", "The price per segment must be below 100,000, e.g. 0.0100."),
        ("NaN", "The price per segment is a number such as 0.0100."),
        ("sNaN", "The price per segment is a number such as 0.0100."),
        ("-Infinity", "The price per segment is a number such as 0.0100."),
        ("1.000000000000000000000000000000001", "The price per segment has 5 decimals at most."),
    ],
)
def test_a_price_the_column_cannot_hold_is_a_form_error(client, app, shops, amount, message):
    login_en(client, "operator@example.com")
    response = client.post(
        "/sms/settings/pricing", data={"price_per_segment": amount, "currency": "CAD"}
    )
    assert response.status_code == 422 and message in page_text(response)
    with app.app_context():
        assert pricing.pricing().price_per_segment == Decimal("0.0100")  # nothing saved


def test_the_largest_price_the_column_holds_is_saved(client, app, shops):
    login_en(client, "operator@example.com")
    response = client.post(
        "/sms/settings/pricing", data={"price_per_segment": "99999.99999", "currency": "CAD"}
    )
    assert response.status_code == 302
    with app.app_context():
        assert pricing.pricing().price_per_segment == Decimal("99999.99999")


def test_the_price_errors_are_in_the_pages_language(client, app, shops):
    login_en(client, "operator@example.com")
    client.get("/language/fr")
    response = client.post(
        "/sms/settings/pricing", data={"price_per_segment": "-1", "currency": "CAD"}
    )
    assert response.status_code == 422
    assert "Le prix par segment ne peut pas être négatif." in page_text(response)
    response = client.post(
        "/sms/settings/pricing", data={"price_per_segment": "0.01", "currency": "C4D"}
    )
    assert response.status_code == 422
    assert "La devise est un code de trois lettres comme CAD ou USD." in page_text(response)
