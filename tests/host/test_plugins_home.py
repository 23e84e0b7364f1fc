"""The ``home_panels`` hook: what plugins show on the start page (issue 12, point 7)."""

from __future__ import annotations

import pytest
from markupsafe import Markup

from host.api import hookimpl
from tests.conftest import login


class HomePlugin:
    """Shows who sees the start page and for which shop; records every call."""

    __name__ = "homeplugin"

    def __init__(self) -> None:
        self.calls: list[tuple[str, int | None]] = []

    @hookimpl
    def home_panels(self, user, shop):
        self.calls.append((user.email, shop.id if shop is not None else None))
        name = shop.name if shop is not None else "no shop"
        return [Markup("<p id='home-plugin'>Panel for %s</p>") % name]


@pytest.fixture
def home_plugin():
    return HomePlugin()


@pytest.fixture
def home_client(make_app, shops, home_plugin):
    return make_app(PLUGINS_EXTRA=[home_plugin]).test_client()


def test_hook_home_panels(home_client, home_plugin, app, shops):
    from host.extensions import db
    from host.models import Company

    with app.app_context():
        db.session.get(Company, shops["a"]["shop"]).name = "<b>A</b>"
        db.session.commit()
    login(home_client, shops["a"]["staff"])
    page = home_client.get("/").text
    # The plugin's Markup is shown as is; the shop's name inside it is escaped.
    assert "<p id='home-plugin'>Panel for &lt;b&gt;A&lt;/b&gt;</p>" in page
    assert home_plugin.calls == [(shops["a"]["staff"], shops["a"]["shop"])]

    home_client.post("/logout")
    login(home_client, "operator@example.com")
    assert "Panel for no shop" in home_client.get("/").text
    home_client.post(f"/shops/{shops['b']['shop']}/pick")
    assert "Panel for Garage B" in home_client.get("/").text
    assert home_plugin.calls[1:] == [
        ("operator@example.com", None),
        ("operator@example.com", shops["b"]["shop"]),
    ]
