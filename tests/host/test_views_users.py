"""Users (``host/views/users.py``): created in the administrator's shop, edited, bad input
refused, and an administrator cannot lock themselves out."""

from __future__ import annotations

import pytest

from host.extensions import db
from host.models import User
from tests.conftest import login
from tests.host.support_views import assert_refused
from tests.support_pages import row_counts

USER = {"email": "New.Person@Example.com", "name": "New", "role": "staff", "password": "longenough"}


def test_user_is_created_in_the_admin_shop(admin, app, shops):
    response = admin.post("/users/new", data={**USER, "active": "y"})
    assert response.status_code == 302
    with app.app_context():
        user = db.session.query(User).filter_by(email="new.person@example.com").one()
        assert (user.company_id, user.role, user.active) == (shops["a"]["shop"], "staff", True)
    assert "new.person@example.com" in admin.get("/users/").text
    client = app.test_client()
    login(client, "new.person@example.com", "longenough")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"email": "STAFF-A@example.com"}, "Another user already has this e-mail."),
        ({"email": "admin-b@example.com"}, "Another user already has this e-mail."),
        ({"email": "nobody"}, "Invalid email address."),
        ({"email": ""}, "This field is required."),
        ({"password": ""}, "Give the new user a password (8 characters or more)."),
        ({"password": "short"}, "Field must be between 8 and 200 characters long."),
        ({"role": "operator"}, "Not a valid choice."),
        ({"name": "x" * 201}, "Field cannot be longer than 200 characters."),
    ],
)
def test_user_form_refuses_bad_input(admin, app, change, message):
    before = row_counts(app)
    assert_refused(app, admin.post("/users/new", data={**USER, **change}), before, message)


def test_user_edit_saves_and_admin_cannot_lock_themselves_out(admin, app, shops):
    url = f"/users/{shops['a']['staff_id']}"
    data = {"email": shops["a"]["staff"], "name": "Renamed", "role": "admin", "active": "y"}
    assert admin.post(url, data=data).status_code == 302
    with app.app_context():
        assert db.session.get(User, shops["a"]["staff_id"]).role == "admin"
    before = row_counts(app)
    mine = {"email": shops["a"]["admin"], "name": "Me", "role": "staff", "active": "y"}
    message = "You cannot take away your own administrator access."
    assert_refused(app, admin.post(f"/users/{shops['a']['admin_id']}", data=mine), before, message)
    with app.app_context():
        assert db.session.get(User, shops["a"]["admin_id"]).role == "admin"
