"""Shop message templates: defaults, EN/FR rendering in the shop's zone, validation, the
sandbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from jinja2.sandbox import SecurityError

from host.extensions import db
from host.models import Company
from plugins.sms_module.models import SmsTemplate
from plugins.sms_module.texts import templates as mt
from plugins.sms_module.texts.segments import GSM_7, count_segments
from tests.sms_module.texts.support import SUMMER, WINTER, objects
from tests.support_sms import login_en

# --- rendering -------------------------------------------------------------------------------


def test_french_defaults_use_the_shop_time_zone_and_stay_in_gsm(app, shops, time_machine):
    with app.app_context():
        company, customer, appointment, invoice = objects(shops, "a")
        assert company.time_zone == "America/Toronto"
        time_machine.move_to(WINTER - timedelta(days=10))
        appointment.starts_at = WINTER
        text = mt.render_event(company, mt.APPOINTMENT_BOOKED, "fr", appointment=appointment)
        assert text == (
            "Garage A : Bonjour Client, votre rendez-vous est confirmé pour le "
            "mardi 2 décembre à 14 h 30 (Civic 2019)."
        )
        time_machine.move_to(SUMMER - timedelta(days=10))
        appointment.starts_at = SUMMER
        moved = mt.render_event(company, mt.APPOINTMENT_MOVED, "fr", appointment=appointment)
        assert "le mardi 7 juillet à 9 h 05." in moved
        total = mt.render_event(company, mt.INVOICE_PRINTED, "fr", invoice=invoice)
        assert "Facture a-1 : 120,50 $." in total and total.startswith("Garage A : Merci Client!")
        for event in mt.EVENTS:
            body = mt.render_event(
                company, event, "fr", customer=customer, appointment=appointment, invoice=invoice
            )
            assert "Garage A" in body and "{" not in body
            assert count_segments(body).encoding == GSM_7, (event, body)


def test_english_defaults_use_the_shop_time_zone(app, shops, time_machine):
    with app.app_context():
        company, customer, appointment, invoice = objects(shops, "b")
        time_machine.move_to(WINTER - timedelta(days=10))
        appointment.starts_at = WINTER
        text = mt.render_event(company, mt.APPOINTMENT_REMINDER, "en", appointment=appointment)
        assert text == (
            "Garage B: Reminder, Client: your appointment is on Tuesday, December 2 at 2:30 PM. "
            "See you soon!"
        )
        time_machine.move_to(SUMMER - timedelta(days=10))
        appointment.starts_at = SUMMER
        moved = mt.render_event(company, mt.APPOINTMENT_MOVED, "en", appointment=appointment)
        assert moved.endswith("moved to Tuesday, July 7 at 9:05 AM.")
        total = mt.render_event(company, mt.INVOICE_PRINTED, "en", invoice=invoice)
        assert "Invoice b-1: $120.50." in total
        welcome = mt.render_event(company, mt.WELCOME, "en", customer=customer)
        assert welcome.startswith("Garage B: Welcome Client!")
        for event in mt.EVENTS:
            body = mt.render_event(
                company, event, "en", customer=customer, appointment=appointment, invoice=invoice
            )
            assert count_segments(body).encoding == GSM_7, (event, body)


def test_every_variable_is_filled_from_the_objects(app, shops, time_machine):
    with app.app_context():
        company, customer, appointment, invoice = objects(shops, "a")
        time_machine.move_to(WINTER - timedelta(days=10))
        appointment.starts_at = WINTER
        customer.first_name = "Zoé’s"  # a curly apostrophe would force Unicode: made plain
        values = mt.variables(company, "fr", appointment=appointment, invoice=invoice)
        assert values == {
            "first_name": "Zoé's",
            "shop_name": "Garage A",
            "appointment_time": "mardi 2 décembre à 14 h 30",
            "appointment_date": "mardi 2 décembre",
            "vehicle": "Civic 2019",
            "invoice_number": "a-1",
            "invoice_total": "120,50 $",
        }
        assert set(values) == set(mt.VARIABLES)
        english = mt.variables(company, "en", appointment=appointment)
        assert english["appointment_date"] == "Tuesday, December 2"
        assert english["invoice_total"] == ""  # no invoice given: empty, never a crash


@pytest.mark.parametrize(
    "today,starts,language,expected",
    [
        # Booked on December 30 for January 3: another year, so the year is written.
        (
            datetime(2026, 12, 30, 15, tzinfo=UTC),
            datetime(2027, 1, 4, 14, 30, tzinfo=UTC),
            "fr",
            "lundi 4 janvier 2027 à 9 h 30",
        ),
        (
            datetime(2026, 12, 30, 15, tzinfo=UTC),
            datetime(2027, 1, 4, 14, 30, tzinfo=UTC),
            "en",
            "Monday, January 4, 2027 at 9:30 AM",
        ),
        # The same year but more than about six months away.
        (
            datetime(2026, 1, 5, 15, tzinfo=UTC),
            datetime(2026, 9, 1, 13, tzinfo=UTC),
            "en",
            "Tuesday, September 1, 2026 at 9:00 AM",
        ),
        # Near and in this year: no year.
        (
            datetime(2026, 11, 30, 15, tzinfo=UTC),
            datetime(2026, 12, 1, 14, tzinfo=UTC),
            "fr",
            "mardi 1er décembre à 9 h 00",
        ),
    ],
)
def test_a_date_in_another_year_or_far_away_is_written_with_its_year(
    app, shops, time_machine, today, starts, language, expected
):
    # Issue 11 §2: "January 4" read on December 30 must not be taken for last January.
    with app.app_context():
        company, _customer, appointment, _invoice = objects(shops, "a")
        time_machine.move_to(today)
        appointment.starts_at = starts
        assert mt.variables(company, language, appointment=appointment)["appointment_time"] == (
            expected
        )


def test_message_language_rules(app, shops):
    with app.app_context():
        quebec, customer_a, _appointment, _invoice = objects(shops, "a")
        ontario, customer_b, _appointment, _invoice = objects(shops, "b")
        assert mt.message_language(customer_a, quebec) == "fr"  # the shop's language
        assert mt.message_language(customer_b, ontario) == "en"
        customer_a.language = "EN"
        assert mt.message_language(customer_a, quebec) == "en"  # the customer's first
        customer_b.language = "fr"
        assert mt.message_language(customer_b, ontario) == "fr"
        customer_b.language = "es"  # not one the messages are written in: the shop's
        assert mt.message_language(customer_b, ontario) == "en"
        silent_quebec = Company(name="Q", country="CA", province="QC", language="")
        silent_ontario = Company(name="O", country="CA", province="ON", language=None)
        assert mt.message_language(None, silent_quebec) == "fr"
        assert mt.message_language(None, silent_ontario) == "en"


def test_disclaimer_says_who_writes_why_and_how_to_stop(app, shops):
    with app.app_context():
        quebec, ontario = objects(shops, "a")[0], objects(shops, "b")[0]
        french = mt.disclaimer_text(quebec, "fr")
        english = mt.disclaimer_text(ontario, "en")
        assert french.startswith("Garage A ") and "répondez ARRET pour vous désabonner" in french
        assert english.startswith("Garage B ") and "reply STOP to unsubscribe" in english
        assert "rendez-vous" in french and "appointments" in english
        for text in (french, english):
            assert count_segments(text).encoding == GSM_7 and count_segments(text).segments == 1
        with pytest.raises(ValueError):
            mt.disclaimer_text(quebec, "de")


def test_switched_off_event_renders_nothing_and_override_wins(client, app, shops):
    login_en(client, shops["a"]["admin"])
    client.post(f"/sms/settings/templates/{mt.VEHICLE_READY}/enabled", data={"enabled": "0"})
    body = "{{ shop_name }} : {{ first_name }}, votre auto est prête."
    client.post(f"/sms/settings/templates/{mt.WELCOME}/fr", data={"body": body})
    with app.app_context():
        company_a, customer_a, appointment_a, _invoice = objects(shops, "a")
        company_b, _customer, appointment_b, _invoice = objects(shops, "b")
        for language in ("fr", "en"):  # off is per event: both languages
            assert (
                mt.render_event(company_a, mt.VEHICLE_READY, language, appointment=appointment_a)
                is None
            )
        assert mt.render_event(company_b, mt.VEHICLE_READY, "en", appointment=appointment_b)
        welcome = mt.render_event(company_a, mt.WELCOME, "fr", customer=customer_a)
        assert welcome == "Garage A : Client, votre auto est prête."
        english = mt.render_event(company_a, mt.WELCOME, "en", customer=customer_a)
        assert english.startswith("Garage A: Welcome Client!")  # the other language: default
        assert mt.render_event(company_b, mt.WELCOME, "fr").startswith("Garage B : Bienvenue")


def test_a_broken_saved_template_falls_back_to_the_default(app, shops):
    with app.app_context():
        company, customer, _appointment, _invoice = objects(shops, "a")
        # Written around validation, as a template saved before a variable was renamed.
        db.session.add(
            SmsTemplate(company_id=company.id, event=mt.WELCOME, language="fr", body="{{ nom }}")
        )
        db.session.commit()
        text = mt.render_event(company, mt.WELCOME, "fr", customer=customer)
        assert text.startswith("Garage A : Bienvenue Client!")


def test_unknown_event_or_language_is_a_programming_error(app, shops):
    with app.app_context():
        company = objects(shops, "a")[0]
        with pytest.raises(ValueError, match="event"):
            mt.render_event(company, "birthday", "fr")
        with pytest.raises(ValueError, match="language"):
            mt.render_event(company, mt.WELCOME, "de")


# --- validation and the sandbox ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        ("Hi {{ firstname }}", "Unknown variable: {{ firstname }}. Did you mean {{ first_name }}?"),
        ("Hi {{ customer }}", "Unknown variable: {{ customer }}"),
        ("Hi {{ first_name }", "A variable is not closed: add }} after first_name."),
        ("{% if vehicle %}ready", "The block {% if vehicle %} is not closed"),
        ("{{ ''.__class__.__mro__ }}", "attribute and item access"),
        ("{{ first_name['__class__'] }}", "attribute and item access"),
        ("{{ first_name.upper() }}", "function and method calls"),
        ("{{ range(10) }}", "function and method calls"),
        ("{{ first_name * 100000000 }}", "arithmetic"),
        ("{% for x in vehicle %}{% endfor %}", "loops"),
        ("{% include 'base.html' %}", "other templates"),
        ("{% set first_name = 'x' %}", "setting variables"),
        ("{{ first_name|center(99999) }}", "Unknown filter center"),
        ("{% if vehicle %}{% endif %}", "empty once its variables are filled in"),
        ("x" * 1601, "1601 characters; the limit is 1600"),
        ("{{ shop_name }}" + "x" * 1590, "characters; the limit is 1600"),
    ],
)
def test_bad_templates_are_refused_with_a_clear_message(app, body, expected):
    with app.test_request_context():
        errors = mt.validate_body(body)
    assert errors and any(expected in error for error in errors), errors


def test_good_templates_pass_and_variables_follow_the_event(app):
    with app.test_request_context():
        for event in mt.EVENTS:
            for language in mt.LANGUAGES:
                assert mt.validate_body(mt.DEFAULTS[event][language], event) == []
        body = "{{ first_name|default('client')|upper }}{% if vehicle %} {{ vehicle }}{% endif %}"
        assert mt.validate_body(body, mt.VEHICLE_READY) == []
        refused = mt.validate_body("{{ appointment_time }}", mt.WELCOME)
        assert refused == ["The variable appointment_time is not available in this message."]
        assert mt.validate_body("{{ invoice_total }}") == []  # no event: every variable


def test_the_sandbox_itself_refuses_unsafe_access():
    # Defence in depth: even a template that skipped validation cannot reach Python objects.
    with pytest.raises(SecurityError):
        mt.ENVIRONMENT.from_string("{{ ''.__class__.__mro__ }}").render()
    with pytest.raises(SecurityError):
        mt.ENVIRONMENT.from_string("{{ 'x' * 100000000 }}").render()
    assert mt.ENVIRONMENT.from_string("{{ a }} & <b>").render(a="<i>") == "<i> & <b>"  # no escape
