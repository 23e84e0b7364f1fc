"""The start page (``host/views/home.py``): the operator picks the shop to work on."""

from __future__ import annotations

from tests.conftest import login
from tests.support_pages import page_text


def test_operator_picks_a_shop_then_works_on_it(client, shops):
    login(client, "operator@example.com")
    client.get("/language/en")
    home = client.get("/").text
    assert "Garage A" in home and "Garage B" in home
    response = client.get("/customers/")
    assert response.status_code == 409
    assert "Pick a shop on the start page first." in page_text(response)
    assert client.post(f"/shops/{shops['b']['shop']}/pick").status_code == 302
    customers = client.get("/customers/").text
    assert "Client B" in customers and "Client A" not in customers
    assert "Working on this shop" in client.get("/").text
    assert client.get(f"/companies/{shops['a']['shop']}").status_code == 200
    assert client.post("/shops/424242/pick").status_code == 404


def test_shop_users_cannot_pick_shops(admin, shops):
    assert admin.post(f"/shops/{shops['a']['shop']}/pick").status_code == 404
