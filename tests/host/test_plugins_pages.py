"""One test per hook that shapes the pages: the menu, the Options tab, the Customer
Information tab and the customer's tabs, and the reports."""

from __future__ import annotations

import csv
import io
import re

from sqlalchemy import select

from host.extensions import db
from host.models import Appointment, Company, CompanyOption, Customer
from tests.conftest import login
from tests.host.support_views import menu_hrefs
from tests.support_pages import page_text
from tests.support_plugins import (
    FORM_VETO,
    LOYALTY_ERROR,
    NAME_VETO,
    OPTION_FREE,
    OPTION_VETOED,
    VETO_MESSAGE,
    VETOED_NAME,
)


def test_hook_menu_links(client, plugin_client, shops):
    login(plugin_client, shops["a"]["staff"])
    page = plugin_client.get("/customers/").get_data(as_text=True)
    hrefs = menu_hrefs(page)
    assert "/testplugin/" in hrefs
    assert ">Test plugin</a>" in page
    # Ordered by MenuLink.order: after Invoices (30) and Reports (60).
    assert hrefs.index("/invoices/") < hrefs.index("/reports/") < hrefs.index("/testplugin/")
    login(client, shops["a"]["staff"])
    assert "/testplugin/" not in menu_hrefs(client.get("/customers/").get_data(as_text=True))


def test_hook_shop_options(plugin_client, shops):
    login(plugin_client, shops["a"]["admin"])
    page = plugin_client.get(f"/companies/{shops['a']['shop']}/options").get_data(as_text=True)
    assert f"{OPTION_FREE} - Test option" in page
    assert f"{OPTION_VETOED} - Vetoed option" in page
    assert f'name="option-{OPTION_FREE}"' in page


def saved_options(app, shop_id: int) -> dict[int, bool]:
    with app.app_context():
        rows = db.session.scalars(select(CompanyOption).filter_by(company_id=shop_id))
        return {row.number: row.enabled for row in rows}


def test_hook_veto_option_change(plugin_app, plugin_client, plugin, shops):
    shop = shops["a"]["shop"]
    url = f"/companies/{shop}/options"
    login(plugin_client, shops["a"]["admin"])

    refused = plugin_client.post(
        url, data={f"option-{OPTION_FREE}": "on", f"option-{OPTION_VETOED}": "on"}
    )
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert VETO_MESSAGE.format(name="Garage A") in page
    # All or nothing: the allowed option was not saved either.
    assert saved_options(plugin_app, shop) == {}
    asked = {(c["number"], c["enabled"]) for c in plugin.received("veto_option_change")}
    assert asked == {(OPTION_FREE, True), (OPTION_VETOED, True)}
    assert {c["company"] for c in plugin.received("veto_option_change")} == {shop}

    allowed = plugin_client.post(url, data={f"option-{OPTION_FREE}": "on"})
    assert allowed.status_code == 302
    assert saved_options(plugin_app, shop) == {OPTION_FREE: True}
    # Switching off asks too, with enabled=False.
    plugin.calls.clear()
    assert plugin_client.post(url, data={}).status_code == 302
    assert [(c["number"], c["enabled"]) for c in plugin.received("veto_option_change")] == [
        (OPTION_FREE, False)
    ]
    assert saved_options(plugin_app, shop) == {OPTION_FREE: False}


def company_form(**overrides) -> dict[str, str]:
    data = {"name": "Garage A", "v2v_number": "V2V-a", "country": "CA", "province": "QC"}
    return {**data, "language": "fr", **overrides}


def test_hook_veto_company_change(plugin_app, plugin_client, plugin, shops):
    shop = shops["a"]["shop"]
    url = f"/companies/{shop}"
    login(plugin_client, shops["a"]["admin"])

    refused = plugin_client.post(url, data=company_form(name=VETOED_NAME, v2v_number="V2V-9"))
    assert refused.status_code == 422
    page = page_text(refused)
    # The message is beside its field; one naming no field of the form is above the form.
    name_field = re.search(
        r'<div class="field has-error">\s*<label for="name">.*?</div>', page, re.S
    )
    assert name_field and NAME_VETO.format(old="Garage A", new=VETOED_NAME) in name_field.group()
    assert FORM_VETO in page
    # The plugin saw the shop as saved and each changed column as (old, new).
    assert plugin.received("veto_company_change") == [
        {
            "company": shop,
            "changes": {"name": ("Garage A", VETOED_NAME), "v2v_number": ("V2V-a", "V2V-9")},
        }
    ]
    with plugin_app.app_context():
        company = db.session.get(Company, shop)
        assert (company.name, company.v2v_number) == ("Garage A", "V2V-a")  # nothing saved

    plugin.calls.clear()
    allowed = plugin_client.post(url, data=company_form(v2v_number="  "))
    assert allowed.status_code == 302
    # An emptied field is handed over as it would be saved: None.
    assert plugin.received("veto_company_change") == [
        {"company": shop, "changes": {"v2v_number": ("V2V-a", None)}}
    ]
    with plugin_app.app_context():
        assert db.session.get(Company, shop).v2v_number is None

    # Saving without a change asks nothing.
    plugin.calls.clear()
    assert plugin_client.post(url, data=company_form(v2v_number="")).status_code == 302
    assert plugin.received("veto_company_change") == []


def customer_form(**overrides) -> dict[str, str]:
    data = {
        "first_name": "Client",
        "last_name": "A",
        "mobile_phone": "+15145550101",
        "email": "",
        "language": "",
    }
    data.update(overrides)
    return data


def first_name(app, customer_id: int) -> str:
    with app.app_context():
        return db.session.get(Customer, customer_id).first_name


def test_hook_customer_fields(plugin_app, plugin_client, plugin, shops):
    customer = shops["a"]["customer"]
    url = f"/customers/{customer}"
    login(plugin_client, shops["a"]["staff"])

    page = plugin_client.get(url).get_data(as_text=True)
    assert '<input id="loyalty-code" name="loyalty-code" value="">' in page
    assert 'data-field="loyalty"' in page

    # The field's validation refuses the whole form, and keeps what was typed.
    refused = plugin_client.post(
        url, data=customer_form(first_name="Changed", **{"loyalty-code": "<b>7"})
    )
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert LOYALTY_ERROR in page
    assert 'value="&lt;b&gt;7"' in page
    assert first_name(plugin_app, customer) == "Client"
    assert plugin.received("customer_field_apply") == []
    assert plugin.received("customer_saved") == []

    saved = plugin_client.post(
        url, data=customer_form(first_name="Changed", **{"loyalty-code": "L-7"})
    )
    assert saved.status_code == 302
    [applied] = plugin.received("customer_field_apply")
    assert applied["customer_id"] == customer
    assert applied["code"] == "L-7"
    assert applied["user"] == shops["a"]["staff"]
    # Inside the customer's transaction: this session sees the change, nobody else yet.
    assert applied["in_transaction"] is True
    assert applied["name_here"] == "Changed"
    assert applied["elsewhere"]["first_name"] == "Client"
    # The commit came after, once for both.
    assert [name for name, _ in plugin.calls][-2:] == ["customer_field_apply", "customer_saved"]
    assert first_name(plugin_app, customer) == "Changed"


def test_hook_customer_fields_for_a_new_customer(plugin_app, plugin_client, plugin, shops):
    login(plugin_client, shops["a"]["staff"])
    assert 'name="loyalty-code"' in plugin_client.get("/customers/new").get_data(as_text=True)
    saved = plugin_client.post(
        "/customers/new",
        data=customer_form(first_name="New", mobile_phone="", **{"loyalty-code": "L-1"}),
    )
    assert saved.status_code == 302
    [applied] = plugin.received("customer_field_apply")
    # The customer has an id already (flushed) but is not committed yet.
    assert applied["customer_id"] is not None
    assert applied["elsewhere"] is None
    assert first_name(plugin_app, applied["customer_id"]) == "New"


def test_hook_customer_tabs(plugin_client, shops):
    customer = shops["a"]["customer"]
    login(plugin_client, shops["a"]["staff"])
    for url in (f"/customers/{customer}", f"/customers/{customer}/appointments"):
        page = plugin_client.get(url).get_data(as_text=True)
        assert f'href="/testplugin/customers/{customer}">Loyalty</a>' in page, url
    tab = plugin_client.get(f"/testplugin/customers/{customer}")
    assert tab.status_code == 200
    assert "Loyalty of Client A" in tab.get_data(as_text=True)
    assert plugin_client.get(f"/testplugin/customers/{shops['b']['customer']}").status_code == 404


def test_hook_appointment_panels(plugin_app, plugin_client, shops):
    login(plugin_client, shops["a"]["staff"])
    with plugin_app.app_context():
        appointment = db.session.get(Appointment, shops["a"]["appointment"])
        appointment.vehicle = "<b>Civic</b>"
        db.session.commit()
    page = plugin_client.get(f"/appointments/{shops['a']['appointment']}").get_data(as_text=True)
    assert "<p id='visit-panel'>Visit of &lt;b&gt;Civic&lt;/b&gt;</p>" in page
    # A new appointment has no panel yet.
    assert "visit-panel" not in plugin_client.get("/appointments/new").get_data(as_text=True)


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    # Every export starts with a byte-order mark, for spreadsheets (issue 13).
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def test_hook_register_reports(plugin_app, plugin_client, shops):
    assert "testplugin_customers" in plugin_app.extensions["reports"]
    login(plugin_client, shops["a"]["staff"])
    index = plugin_client.get("/reports/").get_data(as_text=True)
    assert "Customers (test plugin)" in index

    rows = read_csv(plugin_client.get("/reports/testplugin_customers.csv"))
    # Each shop sees only its own customers.
    assert rows == [["id", "name"], [str(shops["a"]["customer"]), "Client A"]]
    plugin_client.post("/logout")
    login(plugin_client, shops["b"]["staff"])
    rows = read_csv(plugin_client.get("/reports/testplugin_customers.csv"))
    assert rows == [["id", "name"], [str(shops["b"]["customer"]), "Client B"]]
