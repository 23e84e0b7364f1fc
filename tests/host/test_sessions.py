"""Sessions end everywhere on logout and on a new password; the cookie's flags; the
security headers and the Content-Security-Policy of the pages (``host/security.py``,
``host/views/auth.py``)."""

from __future__ import annotations

import re

from host.extensions import db
from host.models import User
from tests.conftest import login


def logged_in(client) -> bool:
    return client.get("/customers/").status_code == 200


def session_cookie(client) -> str:
    return client.get_cookie("session").value


def test_logging_out_ends_every_session_of_the_user(app, shops):
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, shops["a"]["admin"])
    login(phone, shops["a"]["admin"])
    kept = session_cookie(phone)
    assert logged_in(laptop) and logged_in(phone)
    laptop.post("/logout")
    assert not logged_in(laptop)
    assert not logged_in(phone)  # the other device is out too
    stolen = app.test_client()
    stolen.set_cookie("session", kept)  # a copy of the old cookie, replayed
    assert not logged_in(stolen)


def test_a_new_password_ends_every_session_of_the_user(app, shops):
    admin, staff = app.test_client(), app.test_client()
    login(admin, shops["a"]["admin"])
    login(staff, shops["a"]["staff"])
    assert logged_in(staff)
    form = {"email": shops["a"]["staff"], "name": "Staff", "role": "staff", "active": "y"}
    done = admin.post(f"/users/{shops['a']['staff_id']}", data={**form, "password": "n3w pass!"})
    assert done.status_code == 302
    assert not logged_in(staff)
    login(staff, shops["a"]["staff"], "n3w pass!")
    assert logged_in(staff)
    # Saving the user without a new password leaves their sessions alone.
    admin.post(f"/users/{shops['a']['staff_id']}", data={**form, "name": "Renamed"})
    assert logged_in(staff)


def test_who_changes_their_own_password_stays_logged_in_there_only(app, shops):
    here, elsewhere = app.test_client(), app.test_client()
    login(here, shops["a"]["admin"])
    login(elsewhere, shops["a"]["admin"])
    form = {"email": shops["a"]["admin"], "name": "Admin", "role": "admin", "active": "y"}
    done = here.post(f"/users/{shops['a']['admin_id']}", data={**form, "password": "n3w pass!"})
    assert done.status_code == 302
    assert logged_in(here) and not logged_in(elsewhere)


def test_a_cookie_naming_the_user_id_alone_is_refused(app, client, shops):
    """The cookies signed before session versions (``_user_id`` = "7") log nobody in."""
    with client.session_transaction() as session:
        session["_user_id"] = str(shops["a"]["admin_id"])
        session["_fresh"] = True
    assert not logged_in(client)
    with app.app_context():
        user = db.session.get(User, shops["a"]["admin_id"])
        current = user.get_id()
    assert current == f"{shops['a']['admin_id']}:0"
    with client.session_transaction() as session:
        session["_user_id"] = current
    assert logged_in(client)
    with client.session_transaction() as session:
        session["_user_id"] = f"{shops['a']['admin_id']}:1"  # a version not reached yet
    assert not logged_in(client)


def test_the_session_cookie_is_httponly_and_samesite_lax(client, shops):
    response = client.post("/login", data={"email": shops["a"]["admin"], "password": "x"})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # served over http://127.0.0.1


def test_the_session_cookie_is_secure_when_the_public_url_is_https(make_app, shops):
    app = make_app(PUBLIC_BASE_URL="https://crm.example.com")
    response = login(app.test_client(), shops["a"]["admin"])
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_the_public_url_from_the_environment_sets_secure(make_app, monkeypatch):
    monkeypatch.setenv("CRMHOST_PUBLIC_BASE_URL", "https://crm.example.com")
    app = make_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_pages_send_the_security_headers(admin, shops):
    response = admin.get(f"/companies/{shops['a']['shop']}")
    assert response.status_code == 200
    headers = response.headers
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    policy = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    nonce = re.search(r"script-src 'self' 'nonce-([^']+)'", policy).group(1)
    # The page's inline script carries this answer's nonce; the next answer has another.
    assert f'<script nonce="{nonce}">' in response.text
    again = admin.get(f"/companies/{shops['a']['shop']}").headers["Content-Security-Policy"]
    assert nonce not in again


def test_no_page_template_has_an_inline_handler_or_style_attribute():
    """The policy refuses ``onclick=""`` and ``style=""``: none is left in a template."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    found = []
    for path in [
        *root.glob("host/templates/**/*.html"),
        *root.glob("plugins/*/templates/**/*.html"),
    ]:
        text = path.read_text()
        if re.search(r"\son[a-z]+\s*=|\sstyle\s*=|<script(?![^>]*(nonce=|src=))", text):
            found.append(str(path.relative_to(root)))
    assert found == []


def test_reactivating_a_user_does_not_bring_back_their_old_sessions(app, shops):
    admin, staff = app.test_client(), app.test_client()
    login(admin, shops["a"]["admin"])
    login(staff, shops["a"]["staff"])
    kept = session_cookie(staff)
    form = {"email": shops["a"]["staff"], "name": "Staff", "role": "staff"}
    url = f"/users/{shops['a']['staff_id']}"
    assert admin.post(url, data=form).status_code == 302  # "active" unchecked
    assert not logged_in(staff)
    assert admin.post(url, data={**form, "active": "y"}).status_code == 302
    replayed = app.test_client()
    replayed.set_cookie("session", kept)
    assert not logged_in(replayed)  # the cookie from before stays dead
    login(staff, shops["a"]["staff"])  # logging in again works
    assert logged_in(staff)


def test_any_change_of_active_ends_the_sessions(app, shops):
    """Wherever ``active`` changes (a page, a command, the API), the sessions end."""
    with app.app_context():
        user = db.session.get(User, shops["a"]["staff_id"])
        before = user.session_version
        user.active = True  # no change: sessions kept
        assert user.session_version == before
        user.active = False
        user.active = True
        assert user.session_version == before + 2
        fresh = User(email="new@example.com", role=user.role, active=True)
        assert (fresh.session_version or 0) == 0


def test_the_cookie_is_secure_when_only_the_sms_public_url_is_https(make_app, monkeypatch):
    monkeypatch.setenv("SMS_PUBLIC_BASE_URL", "https://crm.example.com")
    app = make_app()
    assert app.config["PUBLIC_BASE_URL"].startswith("http://")
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


def test_the_readme_production_setup_makes_the_cookie_secure(make_app, shops, monkeypatch):
    """The README's production block, as written, gives a Secure session cookie."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = readme.split("## Running in production", 1)[1].split("```sh", 1)[1].split("```")[0]
    for line in block.splitlines():
        if line.startswith("export "):
            for pair in line.split("#")[0].split()[1:]:
                name, _sep, value = pair.partition("=")
                if name.startswith("CRMHOST_"):
                    monkeypatch.setenv(name, value)
    app = make_app()
    # The public URL itself is https (the SMS module's callbacks default to it).
    assert app.config["PUBLIC_BASE_URL"] == "https://crm.example.com"
    assert app.config["SMS_PUBLIC_BASE_URL"] == "https://crm.example.com"
    response = login(app.test_client(), shops["a"]["admin"])
    assert "Secure" in response.headers["Set-Cookie"]
