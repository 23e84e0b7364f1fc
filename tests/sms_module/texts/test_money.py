"""Money the same way in the pages and in the texts (issue 12, point 2): "75,50 $" in French,
"$75.50" in English, through Babel; a text's language is the customer's."""

from __future__ import annotations

from decimal import Decimal

import pytest
from flask_babel import force_locale

from host.extensions import db
from host.models import Company, Invoice
from host.templating import money
from plugins.sms_module.texts.variables import variables
from tests.conftest import login
from tests.support_pages import page_text


def plain(text: str) -> str:
    """Babel's no-break spaces as spaces (a text replaces them: GSM-7 has none)."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def set_total(app, shops, key: str, total: str) -> None:
    with app.app_context():
        db.session.get(Invoice, shops[key]["invoice"]).total = Decimal(total)
        db.session.commit()


@pytest.mark.parametrize(("locale", "written"), [("fr", "75,50 $"), ("en", "$75.50")])
def test_money_is_written_the_readers_way(app, locale, written):
    with app.test_request_context(), force_locale(locale):
        assert plain(money(Decimal("75.50"))) == written
        assert plain(money(75.5, "CAD")) == written
        assert money(None) == ""


def test_an_amount_in_another_currency_says_which(app):
    with app.test_request_context(), force_locale("fr"):
        assert plain(money(Decimal("75.50"), "USD")) == "75,50 $ US"
    with app.test_request_context(), force_locale("en"):
        assert plain(money(Decimal("75.50"), "EUR")) == "€75.50"


@pytest.mark.parametrize(
    ("key", "language", "written"), [("a", "fr", "75,50 $"), ("b", "en", "$75.50")]
)
def test_the_invoice_page_and_the_invoice_text_agree(client, app, shops, key, language, written):
    set_total(app, shops, key, "75.50")
    login(client, shops[key]["admin"])  # the Quebec shop reads French, Ontario's English
    page = plain(page_text(client.get(f"/invoices/{shops[key]['invoice']}")))
    assert written in page
    with app.app_context():
        company = db.session.get(Company, shops[key]["shop"])
        invoice = db.session.get(Invoice, shops[key]["invoice"])
        text = variables(company, language, invoice=invoice)["invoice_total"]
    assert plain(text) == written
