"""Logging in and out (``host/views/auth.py``)."""

from __future__ import annotations

from urllib.parse import quote

from tests.conftest import PASSWORD
from tests.support_pages import page_text


def test_login_refuses_a_wrong_password(client, shops):
    response = client.post("/login", data={"email": shops["a"]["admin"], "password": "nope"})
    assert response.status_code == 422
    assert "Wrong e-mail or password." in page_text(response)
    assert client.get("/customers/").status_code == 302


def test_login_follows_local_next_only(client, shops):
    data = {"email": shops["a"]["admin"], "password": PASSWORD}
    assert client.post("/login?next=/invoices/", data=data).location == "/invoices/"
    client.post("/logout")
    for target in ["//evil.example/", "/\\evil.example", "https://evil.example/", "/\r\nX:1"]:
        client.post("/logout")
        response = client.post(f"/login?next={quote(target)}", data=data)
        assert response.location == "/", target
    for target in ["//evil.example/", "/\\evil.example", "/\r\nSet-Cookie:x=1"]:
        assert client.get(f"/language/en?next={quote(target)}").location == "/", target


def test_logout_ends_the_session(admin):
    assert admin.post("/logout").status_code == 302
    assert admin.get("/customers/").status_code == 302
