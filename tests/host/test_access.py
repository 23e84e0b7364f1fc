"""Who sees what (``host/access.py``): every page answers its users, roles are checked, the
anonymous are sent to log in, an unknown or huge id is a 404."""

from __future__ import annotations

from tests.conftest import login
from tests.support_pages import page_text

PAGES = [
    "/",
    "/customers/",
    "/customers/new",
    "/customers/{customer}",
    "/customers/{customer}/appointments",
    "/customers/{customer}/invoices",
    "/appointments/",
    "/appointments/new",
    "/appointments/{appointment}",
    "/invoices/",
    "/invoices/new",
    "/invoices/{invoice}",
    "/invoices/{invoice}/printable",
    "/reports/",
]


ADMIN_PAGES = [
    "/users/",
    "/users/new",
    "/users/{staff_id}",
    "/companies/{shop}",
    "/companies/{shop}/options",
]


# -- reaching the pages ----------------------------------------------------------------


def test_admin_reaches_every_page(admin, shops):
    for url in PAGES + ADMIN_PAGES:
        response = admin.get(url.format(**shops["a"]))
        assert response.status_code == 200, (url, response.text[:1000])


def test_staff_reaches_shop_pages_but_not_admin_pages(client, shops):
    login(client, shops["a"]["staff"])
    for url in PAGES:
        assert client.get(url.format(**shops["a"])).status_code == 200, url
    for url in [*ADMIN_PAGES, "/company", "/companies/new"]:
        response = client.get(url.format(**shops["a"]))
        assert response.status_code == 403, url
        assert "Traceback" not in response.text
    assert client.post(f"/users/{shops['a']['staff_id']}", data={}).status_code == 403


def test_anonymous_is_sent_to_login(client, shops):
    for url in PAGES[1:] + ADMIN_PAGES:
        response = client.get(url.format(**shops["a"]))
        assert response.status_code == 302, url
        assert response.location.startswith("/login?next="), url
    assert client.get("/").status_code == 302


def test_huge_or_unknown_ids_are_404(admin):
    for url in ["/customers/99999999999999999999", "/invoices/2147483648", "/customers/424242"]:
        response = admin.get(url)
        assert response.status_code == 404, url
        assert "This page does not exist" in page_text(response)
