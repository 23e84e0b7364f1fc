"""The start page (``host/views/home.py``): the operator picks the shop to work on, and a
page that needs a shop asks for one with the list of shops (issue 12, point 8)."""

from __future__ import annotations

import re

from tests.conftest import login
from tests.host.support_views import menu_hrefs
from tests.support_pages import page_text


def shop_rows(html: str) -> list[str]:
    return re.findall(r'<tr data-shop-id="(\d+)"', html)


def test_operator_picks_a_shop_then_works_on_it(client, shops):
    login(client, "operator@example.com")
    client.get("/language/en")
    home = client.get("/").text
    assert "Garage A" in home and "Garage B" in home
    # Provinces are named, not coded (issue 12, point 1).
    assert "Quebec, Canada" in home and "Ontario, Canada" in home
    response = client.get("/customers/")
    # No "409 Conflict" page: the list of shops to pick from, which comes back here.
    assert response.status_code == 200
    assert "409" not in page_text(response)
    assert shop_rows(response.text) == [str(shops["a"]["shop"]), str(shops["b"]["shop"])]
    assert 'name="next" value="/customers/"' in response.text
    picked = client.post(f"/shops/{shops['b']['shop']}/pick", data={"next": "/customers/"})
    assert picked.status_code == 302 and picked.headers["Location"] == "/customers/"
    customers = client.get("/customers/").text
    assert "Client B" in customers and "Client A" not in customers
    assert "Working on this shop" in client.get("/").text
    assert client.get(f"/companies/{shops['a']['shop']}").status_code == 200
    assert client.post("/shops/424242/pick").status_code == 404


def test_a_pick_never_leaves_the_site(client, shops):
    login(client, "operator@example.com")
    response = client.post(
        f"/shops/{shops['a']['shop']}/pick", data={"next": "https://evil.example/"}
    )
    assert response.headers["Location"] == "/"


def test_every_operator_menu_entry_works_without_a_shop(client, shops):
    login(client, "operator@example.com")
    client.get("/language/en")
    hrefs = menu_hrefs(client.get("/").text)
    assert len(hrefs) >= 8 and "/customers/" in hrefs and "/sms/settings/" in hrefs
    for href in hrefs:
        response = client.get(href, follow_redirects=True)
        text = page_text(response)
        assert response.status_code == 200, (href, text[:500])
        assert "Conflict" not in text and "409" not in text, href


def test_a_post_that_needs_a_shop_stays_an_error(client, shops):
    # Only a page opened asks for a shop; a form posted without one is refused as before.
    login(client, "operator@example.com")
    client.get("/language/en")
    response = client.post("/customers/new", data={"first_name": "X"})
    assert response.status_code == 409
    assert "Pick a shop on the start page first." in page_text(response)


def test_shop_users_cannot_pick_shops(admin, shops):
    assert admin.post(f"/shops/{shops['a']['shop']}/pick").status_code == 404
    assert admin.get("/shops/pick").status_code == 404
