"""Fixtures for the browser tests: the app served on a free local port, and Debian's Chromium
driven by Playwright (no browser download); logging in through the login form."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 15_000


@pytest.fixture
def serve(make_app) -> Iterator[Callable[[Flask], str]]:
    """Serve an app on 127.0.0.1 in a background thread; return a function giving its URL.

    Torn down before ``make_app`` (which it asks for) disposes the apps' engines, and only
    once no request is in hand: a request still running when its engine is disposed would
    hand its connection back to a pool no one closes (a ResourceWarning, raised as an error
    wherever the garbage collector happens to run)."""
    running = []
    busy = threading.Condition()
    in_hand = [0]

    def counted(app: Flask):
        def wsgi(environ, start_response):
            with busy:
                in_hand[0] += 1
            try:
                result = app(environ, start_response)
                try:
                    return list(result)
                finally:
                    getattr(result, "close", lambda: None)()
            finally:
                with busy:
                    in_hand[0] -= 1
                    busy.notify_all()

        return wsgi

    def start(app: Flask) -> str:
        server = make_server("127.0.0.1", 0, counted(app), threaded=True)
        thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
        thread.start()
        running.append((server, thread))
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server, thread in running:
        server.shutdown()  # returns once serve_forever has stopped
        thread.join(timeout=10)
        server.server_close()
    with busy:
        busy.wait_for(lambda: in_hand[0] == 0, timeout=10)


@pytest.fixture(scope="module")
def browser():
    """Launch Debian's Chromium once per module through Playwright's sync API."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium to run the browser tests")
    sync_api = pytest.importorskip("playwright.sync_api")
    # The sync API runs its own event loop in this thread, started and closed here only,
    # so no loop outlives the module to raise a ResourceWarning under filterwarnings=error.
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser):
    """A fresh browser tab (own cookies) reading English unless the shop says otherwise."""
    context = browser.new_context(locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


def log_in(page, base: str, email: str, language: str | None = "en") -> None:
    """Log in through the login form, then pick the interface language."""
    from playwright.sync_api import expect

    from tests.conftest import PASSWORD

    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("text=" + email)).to_be_visible()
    if language:
        page.goto(f"{base}/language/{language}")
