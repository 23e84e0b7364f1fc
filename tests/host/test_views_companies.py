"""Company management and the Options tab (``host/views/companies.py``); the operator
creates shops, shop administrators may not."""

from __future__ import annotations

import pytest

from host.extensions import db
from host.models import Company, CompanyOption
from tests.conftest import login
from tests.host.support_views import assert_refused
from tests.support_pages import OPTION_FREE, OPTION_REFUSED, REFUSAL, row_counts

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


def test_admin_may_not_create_shops(admin, app):
    before = row_counts(app)
    assert admin.get("/companies/new").status_code == 403
    assert admin.post("/companies/new", data={"name": "Mine"}).status_code == 403
    assert row_counts(app) == before


# -- the Options tab -------------------------------------------------------------------


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


# -- the operator ----------------------------------------------------------------------


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
