"""The template editor in a real browser (issue 12 point 9): a variable inserted with the
"Insert a variable" control lands at the cursor and the preview follows; an invalid text
makes the preview say why, with no text, until it is fixed."""

from __future__ import annotations

import pytest

from tests.support_browser import log_in

expect = pytest.importorskip("playwright.sync_api").expect

EDIT = "/sms/settings/templates/appointment_booked"


def test_insert_a_variable_at_the_cursor_and_the_preview_follows(page, serve, app, shops):
    base = serve(app)
    log_in(page, base, shops["b"]["admin"])
    page.goto(f"{base}{EDIT}/en")
    body = page.locator("#template-body")
    body.fill("Hi , see you soon")
    body.evaluate("element => element.setSelectionRange(3, 3)")  # the cursor after "Hi "
    page.select_option("#template-insert-variable", label="The customer's first name")
    page.click("#template-insert-button")
    expect(body).to_have_value("Hi {{ first_name }}, see you soon")
    expect(page.locator("#template-preview")).to_have_text("Hi Alexandre, see you soon")
    expect(page.locator("#template-insert-variable")).to_have_value("")  # ready for the next

    body.fill("Hi {{ first_name }, see you soon")  # one brace missing
    error = page.locator("#template-preview-error")
    expect(error).to_have_text(
        "This text cannot be sent as it is: A variable is not closed: add }} after first_name."
    )
    expect(page.locator("#template-preview")).to_be_hidden()
    expect(page.locator("#template-preview")).to_have_text("")  # not the last valid text
    expect(page.locator("#template-counter")).to_have_text("")

    body.fill("Hi {{ first_name }}, see you at {{ shop_name }}")
    expect(page.locator("#template-preview")).to_have_text("Hi Alexandre, see you at Garage B")
    expect(error).to_be_hidden()
    expect(page.locator("#template-counter")).to_have_text("1 segment · 33 characters · $0.01")


def test_the_control_speaks_french_to_the_quebec_shop(page, serve, app, shops):
    base = serve(app)
    log_in(page, base, shops["a"]["admin"], language="fr")
    page.goto(f"{base}{EDIT}/fr")
    body = page.locator("#template-body")
    body.fill("Bonjour ")
    body.press("End")
    page.select_option("#template-insert-variable", label="Le prénom du client")
    page.click("#template-insert-button")
    expect(body).to_have_value("Bonjour {{ first_name }}")
    expect(page.locator("#template-preview")).to_have_text("Bonjour Alexandre")
    body.fill("Bonjour {{ frist_name }}")
    expect(page.locator("#template-preview-error")).to_contain_text(
        "Variable inconnue : {{ frist_name }}. Vouliez-vous dire {{ first_name }}?"
    )
