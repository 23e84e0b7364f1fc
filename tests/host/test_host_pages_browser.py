"""The host's pages in a real browser as people see them (issue 12): the Quebec shop's
administrator reads French (province names, error headings, the login message), and a
destructive click asks first."""

from __future__ import annotations

import re

import pytest

from host.extensions import db
from host.models import Appointment, AppointmentStatus
from tests.support_browser import TIMEOUT_MS, log_in

expect = pytest.importorskip("playwright.sync_api").expect


def test_quebec_admin_reads_french(browser, page, serve, app, shops):
    base = serve(app)
    log_in(page, base, shops["a"]["admin"], language="fr")
    page.goto(f"{base}/companies/{shops['a']['shop']}")
    expect(page.locator("#province option:checked")).to_have_text("Québec")
    expect(page.locator("#country option:checked")).to_have_text("Canada")
    expect(page.locator("#time-zone-name")).to_have_text("heure de l’Est (Toronto)")
    page.select_option("#country", "US")
    expect(page.locator("#country option:checked")).to_have_text("États-Unis")
    page.select_option("#province", "FL")
    expect(page.locator("#province option:checked")).to_have_text("Floride")
    expect(page.locator("#time-zone-name")).to_have_text("heure de l’Est (New York)")

    page.goto(f"{base}/no-such-page")
    expect(page.locator("h1")).to_have_text("404 — Page introuvable")

    # Logged out, in a French browser: the page that needs a login says so in French.
    context = browser.new_context(locale="fr-CA")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        visitor = context.new_page()
        visitor.goto(f"{base}/appointments/")
        expect(visitor).to_have_url(re.compile(r"/login\?next="))
        expect(visitor.locator(".flash")).to_have_text("Connectez-vous pour accéder à cette page.")
    finally:
        context.close()


def test_dismissing_the_cancel_question_keeps_the_appointment(page, serve, app, shops):
    base = serve(app)
    log_in(page, base, shops["a"]["admin"])
    url = f"{base}/appointments/{shops['a']['appointment']}"
    page.goto(url)
    questions, posts = [], []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)

    def dismiss(dialog):
        questions.append((dialog.type, dialog.message))
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.click("button:has-text('Cancel the appointment')")
    page.evaluate("() => 1")  # a round trip: a submitted form would have sent its POST
    assert questions == [
        (
            "confirm",
            "Cancel this appointment? The customer may get a text telling them it is cancelled.",
        )
    ]
    assert posts == []
    expect(page).to_have_url(url)
    with app.app_context():
        assert db.session.get(Appointment, shops["a"]["appointment"]).status == "booked"

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('Cancel the appointment')")
    expect(page.locator(".flash")).to_have_text("Appointment cancelled.")
    with app.app_context():
        appointment = db.session.get(Appointment, shops["a"]["appointment"])
        assert appointment.status == AppointmentStatus.CANCELLED


def test_setting_the_status_to_cancelled_asks_first(page, serve, app, shops):
    """The edit form's Status set to Cancelled texts the customer too: it asks as the
    cancel button does; another status saves without a question."""
    base = serve(app)
    log_in(page, base, shops["a"]["admin"])
    url = f"{base}/appointments/{shops['a']['appointment']}"
    page.goto(url)
    questions = []
    page.on("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    page.select_option("#status", "cancelled")
    page.click("form[data-confirm-when] button[type=submit]")
    page.evaluate("() => 1")
    assert questions == [
        "Cancel this appointment? The customer may get a text telling them it is cancelled."
    ]
    with app.app_context():
        assert db.session.get(Appointment, shops["a"]["appointment"]).status == "booked"
    page.select_option("#status", "confirmed")
    page.click("form[data-confirm-when] button[type=submit]")
    expect(page.locator(".flash")).to_be_visible()
    assert len(questions) == 1
    with app.app_context():
        assert db.session.get(Appointment, shops["a"]["appointment"]).status == "confirmed"
