"""The host's own words in the reader's language (issue 12 point 1): province, state and
country names, the error pages' headings, Flask-Login's message."""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale

from host.regions import (
    COUNTRIES,
    PROVINCES,
    country_name,
    province_choices,
    province_name,
    region_name,
    time_zone,
)
from tests.conftest import login
from tests.support_pages import page_text

FRENCH = {"Accept-Language": "fr-CA,fr;q=0.9"}


@pytest.mark.parametrize(
    ("country", "code", "french", "english"),
    [
        ("CA", "QC", "Québec", "Quebec"),
        ("CA", "BC", "Colombie-Britannique", "British Columbia"),
        ("CA", "PE", "Île-du-Prince-Édouard", "Prince Edward Island"),
        ("CA", "NL", "Terre-Neuve-et-Labrador", "Newfoundland and Labrador"),
        ("CA", "NS", "Nouvelle-Écosse", "Nova Scotia"),
        ("CA", "NB", "Nouveau-Brunswick", "New Brunswick"),
        ("CA", "NT", "Territoires du Nord-Ouest", "Northwest Territories"),
        ("US", "CA", "Californie", "California"),
        ("US", "FL", "Floride", "Florida"),
        ("US", "NC", "Caroline du Nord", "North Carolina"),
        ("US", "GA", "Géorgie", "Georgia"),
        ("US", "NM", "Nouveau-Mexique", "New Mexico"),
        ("US", "PA", "Pennsylvanie", "Pennsylvania"),
        ("US", "WV", "Virginie-Occidentale", "West Virginia"),
    ],
)
def test_province_and_state_names_in_the_reader_language(app, country, code, french, english):
    with app.test_request_context():
        with force_locale("fr"):
            assert province_name(country, code) == french
            assert str(dict(province_choices(country))[code]) == french
        with force_locale("en"):
            assert province_name(country, code) == english


def test_country_names_and_codes_and_zones_are_kept(app):
    with app.test_request_context():
        with force_locale("fr"):
            assert country_name("US") == "États-Unis"
            assert region_name("CA", "QC") == "Québec, Canada"
            assert region_name("US", None) == "États-Unis"
        with force_locale("en"):
            assert region_name("US", "CA") == "California, United States"
    assert region_name(None, None) == ""
    assert set(COUNTRIES) == {"CA", "US"} and len(PROVINCES["CA"]) == 13
    assert len(PROVINCES["US"]) == 51
    assert time_zone("CA", "QC") == "America/Toronto"
    assert time_zone("US", "CA") == "America/Los_Angeles"


def test_province_list_is_in_the_order_of_the_reader_language(app):
    with app.test_request_context(), force_locale("fr"):
        names = [str(name) for _code, name in province_choices("CA")]
    # "Île-du-Prince-Édouard" sorts among the I's, not after "Yukon".
    assert names.index("Île-du-Prince-Édouard") < names.index("Manitoba")
    assert names[0] == "Alberta" and names[-1] == "Yukon"


def test_company_page_shows_quebec_in_french(client, shops):
    login(client, shops["a"]["admin"])
    client.get("/language/fr")
    text = page_text(client.get(f"/companies/{shops['a']['shop']}"))
    assert re.search(r'<option selected value="QC">Québec</option>', text), text
    assert '<option value="US">États-Unis</option>' in text
    assert "Colombie-Britannique" in text and "Californie" in text  # the country switch's list
    assert "heure de l’Est (Toronto)" in text


def test_unknown_page_heading_in_french(client):
    response = client.get("/no-such-page", headers=FRENCH)
    assert response.status_code == 404
    text = page_text(response)
    assert "<h1>404 — Page introuvable</h1>" in text
    assert "Not Found" not in text


def test_unknown_page_heading_in_english(client):
    text = page_text(client.get("/no-such-page", headers={"Accept-Language": "en"}))
    assert "<h1>404 — Page not found</h1>" in text


def test_wrong_method_heading_in_french(client):
    response = client.get("/logout", headers=FRENCH)
    assert response.status_code == 405
    assert "<h1>405 — Requête non acceptée</h1>" in page_text(response)


def test_login_message_in_french(client):
    response = client.get("/customers/", headers=FRENCH, follow_redirects=True)
    text = page_text(response)
    assert "Connectez-vous pour accéder à cette page." in text
    assert "Please log in" not in text


def test_login_message_in_english(client):
    response = client.get("/customers/", headers={"Accept-Language": "en"}, follow_redirects=True)
    assert "Please log in to access this page." in page_text(response)
