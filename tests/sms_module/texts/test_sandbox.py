"""The template sandbox's bounds (issue 13 §6): a template's size and work are bounded while
it renders, at save, at preview and in the worker; too big or too deep is a clear 422."""

from __future__ import annotations

import time
import tracemalloc

import pytest
from jinja2.sandbox import SecurityError

from host.extensions import db
from plugins.sms_module.models import SmsTemplate
from plugins.sms_module.texts import sandbox
from plugins.sms_module.texts import templates as mt
from tests.sms_module.texts.support import objects, saved_rows
from tests.support_sms import login_en

THIRTY = "abcdefghijklmnopqrstuvwxyz1234"
# The field case: each replace('', 30 characters) multiplies the text by 31; five stages of a
# 9-letter name would be 9 * 31**5 characters, 300 MB before the fix.
FIVE_STAGES = "{{ first_name" + f"|replace('', '{THIRTY}')" * 5 + " }}"
NESTED_PARENS = "{{ " + "(" * 200 + "1" + ")" * 200 + " }}"
NESTED_FILTERS = "{{ first_name" + "|trim" * 300 + " }}"
NESTED_NOTS = "{% if " + "not " * 300 + "vehicle %}x{% endif %}"
GROWS = "could grow past 10,000 characters"
DEEP = "nests too deeply"


def peak_memory(action) -> tuple[int, float]:
    """Run ``action``; return its peak traced memory (bytes) and its duration (seconds)."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        action()
    finally:
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak, seconds


def test_five_chained_replace_stages_are_refused_at_save_quickly_in_bounded_memory(app):
    errors: list[str] = []
    with app.test_request_context():
        peak, seconds = peak_memory(lambda: errors.extend(mt.validate_body(FIVE_STAGES)))
    assert errors and GROWS in errors[0], errors
    assert peak < 20 * 1024 * 1024, peak
    assert seconds < 2, seconds


def test_the_render_itself_stops_past_the_bound_for_a_row_that_skipped_validation(app, shops):
    # A row written around validation (saved before the rule): the worker's render is bounded
    # while it runs and the shop's default text goes instead.
    with app.app_context():
        company, customer, _appointment, _invoice = objects(shops, "a")
        customer.first_name = "Alexandre"
        db.session.add(
            SmsTemplate(company_id=company.id, event=mt.WELCOME, language="fr", body=FIVE_STAGES)
        )
        db.session.commit()
        texts: list[str] = []
        peak, _seconds = peak_memory(
            lambda: texts.append(mt.render_event(company, mt.WELCOME, "fr", customer=customer))
        )
        assert texts[0].startswith("Garage A : Bienvenue Alexandre!")
        assert peak < 20 * 1024 * 1024, peak
        with pytest.raises(sandbox.TemplateTooBig):
            mt.render_body(FIVE_STAGES, {"first_name": "Alexandre"})


def test_a_template_that_could_exceed_with_long_names_is_refused_though_its_sample_is_short(app):
    # With the 9-letter sample name this is 509 characters; with a 200-character shop or
    # customer name it would be 10,250: refused at save, not discovered by the worker.
    body = "{{ first_name|replace('', '" + "x" * 50 + "') }}"
    with app.test_request_context():
        assert len(mt.render_body(body, mt.sample_variables(None, "en"))) == 509
        errors = mt.validate_body(body)
        assert errors and GROWS in errors[0], errors
        assert mt.validate_body("{{ first_name|replace('', ' ') }}") == []  # bounded: allowed


@pytest.mark.parametrize("body", [NESTED_PARENS, NESTED_FILTERS, NESTED_NOTS])
def test_deeply_nested_templates_are_refused_with_a_clear_message(app, body):
    with app.test_request_context():
        errors = mt.validate_body(body)
    assert errors and DEEP in errors[0], errors


def test_save_and_preview_answer_422_for_too_big_or_too_deep(client, app, shops):
    login_en(client, shops["a"]["admin"])
    url = f"/sms/settings/templates/{mt.WELCOME}/en"
    for body, expected in ((FIVE_STAGES, GROWS), (NESTED_PARENS, DEEP), (NESTED_FILTERS, DEEP)):
        saved = client.post(url, data={"body": body})
        assert saved.status_code == 422 and expected in saved.get_data(as_text=True)
        preview = client.post(f"{url}/preview", json={"body": body})
        assert preview.status_code == 422, preview.get_data(as_text=True)
        assert preview.json["error"]["code"] == "invalid_template"
        assert expected in preview.json["error"]["message"]
    with app.app_context():
        assert saved_rows(shops["a"]["shop"]) == {}  # nothing stored


def test_every_filter_and_join_is_bounded_while_rendering():
    values = {"first_name": "a" * 200, "vehicle": "b"}
    with pytest.raises(sandbox.TemplateTooBig):  # one stage: 200 + 201 * 60 > 10,000
        sandbox.render_body("{{ first_name|replace('', '" + "y" * 60 + "') }}", values)
    grown = "(first_name|replace('', '" + "y" * 40 + "'))"
    with pytest.raises(sandbox.TemplateTooBig):  # each part fits, their join does not
        sandbox.render_body("{{ " + " ~ ".join([grown] * 2) + " }}", values)
    with pytest.raises(sandbox.TemplateTooBig):  # the streamed output is counted too
        sandbox.render_body(("{{ first_name|replace('', '" + "y" * 40 + "') }}") * 2, values)
    assert sandbox.render_body("{{ vehicle|replace('b', 'cd', 1) ~ '!' }}", values) == "cd!"
    assert sandbox.render_body("{{ 'Zoé\\'s garage'|title }}", values) == "Zoé's Garage"


def test_the_renderer_refuses_what_validation_refuses():
    # Defence in depth: filters messages may not use are not in the sandbox at all.
    for body in ("{{ first_name|center(1000000000) }}", "{% for c in first_name %}{% endfor %}"):
        with pytest.raises(SecurityError):
            sandbox.render_body(body, {"first_name": "x"})
    with pytest.raises(sandbox.TemplateTooBig):
        sandbox.render_body(NESTED_PARENS, {})


# The reviewer's case: `odd` computes value % 2, on a text Python's %-formatting; each block
# allocated about 1 GB at every render (issue 13 §6).
PERCENT_TEST = '{% if ("%999999999d" if first_name else "") is odd %}{% endif %}' * 4


def test_a_formatting_test_is_refused_at_save_quickly_in_bounded_memory(app):
    errors: list[str] = []
    with app.test_request_context():
        peak, seconds = peak_memory(lambda: errors.extend(mt.validate_body(PERCENT_TEST)))
        assert errors == [
            "Unknown test odd: the tests are "
            + ", ".join(name for name in sandbox.TESTS if name.isalpha())
            + "."
        ]
    assert seconds < 1, seconds
    assert peak < 20 * 1024 * 1024, peak
    for name in ("odd", "even", "divisibleby", "sameas", "callable", "mapping", "filter"):
        assert name not in sandbox.ENVIRONMENT.tests
    assert (
        sandbox.render_body(
            "{% if first_name is defined and 2 is gt 1 %}ok{% endif %}", {"first_name": "x"}
        )
        == "ok"
    )


def test_an_old_row_with_a_formatting_test_falls_back_without_the_cost(app, shops):
    with app.app_context():
        company, customer, _appointment, _invoice = objects(shops, "a")
        customer.first_name = "Alexandre"
        db.session.add(
            SmsTemplate(company_id=company.id, event=mt.WELCOME, language="fr", body=PERCENT_TEST)
        )
        db.session.commit()
        texts: list[str] = []
        peak, seconds = peak_memory(
            lambda: texts.append(mt.render_event(company, mt.WELCOME, "fr", customer=customer))
        )
        assert texts[0].startswith("Garage A : Bienvenue Alexandre!")
        assert peak < 20 * 1024 * 1024, peak
        assert seconds < 1, seconds
        with pytest.raises(SecurityError, match="odd test"):
            mt.render_body(PERCENT_TEST, {"first_name": "Alexandre"})


@pytest.mark.parametrize(
    "body",
    [
        "{{ first_name|format(1) }}",
        "{{ '%s'|format(first_name) }}",
        "{{ '%999999999d' % 1 }}",
        "{{ '{:>999999999}'.format(first_name) }}",
        "{{ first_name is divisibleby 3 }}",
        "{{ first_name|replace(*first_name) }}",
    ],
)
def test_every_way_to_python_formatting_is_refused_at_save_and_render(app, body):
    with app.test_request_context():
        assert mt.validate_body(body)
    with pytest.raises(SecurityError):
        sandbox.render_body(body, {"first_name": "x"})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{{ first_name|replace('a', 'b', 'x') }}", "cannot be filled in: check its filters"),
        ("{% if 1e999 %}x{% endif %}", "cannot be filled in: check its filters"),
        ("{{ first_name|replace(old='a', new='b') }}", "named values in filters"),
        ("{{ first_name|default(default_value='x') }}", "named values in filters"),
        ("{{ first_name|upper(1) }}", "The upper filter takes at most 0 value(s)."),
        ("{{ first_name|replace('a', 'b', 1, 2) }}", "takes at most 3 value(s)."),
        ("{{ (1, 2) }}", "Messages may not use lists"),
    ],
)
def test_errors_are_human_sentences_not_python_messages(app, body, message):
    with app.test_request_context():
        errors = mt.validate_body(body)
    assert errors and message in errors[0], errors
    for raw in ("invalid literal", "not defined", "Keyword", "Tuple", "positional"):
        assert raw not in errors[0]
