"""Fixtures of the tests of the host's pages: a logged-in administrator, with or without
the pages test plugin (``tests/support_pages.py``)."""

from __future__ import annotations

import pytest

from tests.conftest import login
from tests.support_pages import PagesPlugin


@pytest.fixture
def admin(client, shops):
    """Shop A's administrator, logged in, reading English."""
    login(client, shops["a"]["admin"])
    client.get("/language/en")
    return client


@pytest.fixture
def pages_plugin():
    """A fresh pages test plugin (two options, a customer field, recorded events)."""
    return PagesPlugin()


@pytest.fixture
def plugin_admin(make_app, shops, pages_plugin):
    """Shop A's administrator on an application with the pages test plugin."""
    app = make_app(PLUGINS_EXTRA=[pages_plugin])
    client = app.test_client()
    login(client, shops["a"]["admin"])
    client.get("/language/en")
    return app, client
