"""Confirmations before a destructive click, in a real browser (issue 12, point 8): the
question is asked, and dismissing it sends nothing."""

from __future__ import annotations

import pytest

from host.extensions import db
from plugins.sms_module.api import tokens
from plugins.sms_module.models import ApiToken
from tests.support_browser import log_in

expect = pytest.importorskip("playwright.sync_api").expect


def test_dismissing_the_revoke_question_keeps_the_token(page, serve, app, shops):
    with app.app_context():
        token_id = tokens.create_token(shops["a"]["shop"], "Booking app", None)[0].id
    base = serve(app)
    log_in(page, base, shops["a"]["admin"])
    page.goto(f"{base}/sms/settings/")
    asked = []

    def dismiss(dialog):
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.evaluate("window.stayed = true")  # a new page would not have it
    page.click("#api-tokens button:has-text('Revoke')")  # waits for a navigation it starts
    # The page stayed: nothing was posted, the token is still active.
    assert page.evaluate("window.stayed === true")
    expect(page.locator("#api-tokens")).to_contain_text("active")
    assert asked and asked[0].startswith("Revoke the token Booking app?")
    with app.app_context():
        assert db.session.get(ApiToken, token_id).revoked_at is None

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#api-tokens button:has-text('Revoke')")
    expect(page.locator("#api-tokens")).to_contain_text("revoked")
    with app.app_context():
        assert db.session.get(ApiToken, token_id).revoked_at is not None
