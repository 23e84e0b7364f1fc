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
        ("0.0000001", "The price per segment has 5 decimals at most."),
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
