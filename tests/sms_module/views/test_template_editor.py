"""The template editor without Jinja (issue 12 point 9): the "Insert a variable" control
lists the event's variables by their labels in the reader's language (and the page lists
them for a reader without JS), and an invalid text is said in plain words by the save, the
page and the live preview, which then shows no text (never the last valid one)."""

from __future__ import annotations

import re
from html import unescape

from plugins.sms_module.texts import templates as mt
from tests.conftest import login
from tests.sms_module.texts.test_template_errors import JINJA_WORDS
from tests.support_sms import login_en

URL = f"/sms/settings/templates/{mt.APPOINTMENT_BOOKED}"


def options(html: str) -> dict[str, str]:
    control = re.search(r'<select id="template-insert-variable">(.*?)</select>', html, re.S)
    assert control, "no Insert a variable control"
    found = re.findall(r'<option value="([^"]*)">([^<]*)</option>', control.group(1))
    return {value: unescape(label) for value, label in found}


def test_the_insert_control_lists_the_events_variables_in_the_readers_language(client, shops):
    login(client, shops["a"]["admin"])  # the Quebec shop: French
    page = client.get(f"{URL}/fr").text
    assert 'id="template-insert" hidden' in page  # shown by template_editor.js
    assert "Insérer une variable" in page and "template_editor.js" in page
    listed = options(page)
    assert listed[""] == "Choisissez quoi insérer…"
    assert listed["first_name"] == "Le prénom du client"
    assert listed["appointment_time"].startswith("Le jour et l'heure du rendez-vous")
    assert "invoice_total" not in listed  # not a variable of this event
    # Without JS: the same variables, as they are typed, with their labels.
    rows = re.findall(r'<tr data-variable="(\w+)"><td><code>([^<]*)</code></td>', page)
    assert [name for name, _typed in rows] == [name for name in listed if name]
    assert ("first_name", "{{ first_name }}") in rows
    login_en(client, shops["a"]["admin"])
    assert options(client.get(f"{URL}/fr").text)["first_name"] == "The customer's first name"


def test_the_preview_of_an_invalid_text_says_why_and_shows_no_text(client, shops):
    login_en(client, shops["b"]["admin"])
    good = client.post(f"{URL}/en/preview", json={"body": "Hi {{ first_name }}"})
    assert good.status_code == 200 and good.json["text"] == "Hi Alexandre"
    bad = client.post(f"{URL}/en/preview", json={"body": "Hi {{ first_name }"})
    assert bad.status_code == 422
    assert bad.json["error"] == {
        "code": "invalid_template",
        "message": "A variable is not closed: add }} after first_name.",
    }
    assert "text" not in bad.json and "segments" not in bad.json  # nothing stale to show
    unknown = client.post(f"{URL}/en/preview", json={"body": "Hi {{ frist_name }}"}).json
    assert unknown["errors"] == [
        "Unknown variable: {{ frist_name }}. Did you mean {{ first_name }}? Pick one from the "
        "list of variables."
    ]
    client.post("/logout")
    login(client, shops["a"]["admin"])
    client.get("/language/fr")
    french = client.post(f"{URL}/fr/preview", json={"body": "Bonjour {{ first_name }"}).json
    assert french["error"]["message"] == (
        "Une variable n'est pas fermée : ajoutez }} après first_name."
    )
    for message in (bad.json["error"]["message"], french["error"]["message"]):
        assert not [word for word in JINJA_WORDS if word.lower() in message.lower()]


def test_a_refused_save_says_why_in_the_preview_place_instead_of_a_text(client, shops):
    login_en(client, shops["b"]["admin"])
    refused = client.post(f"{URL}/en", data={"body": "Hi {{ first_name }}{% if vehicle %}"})
    assert refused.status_code == 422
    page = unescape(refused.text)
    error = re.search(r'<p class="error long-text" id="template-preview-error"[^>]*>(.*?)</p>',
                      page, re.S)  # fmt: skip
    assert error and error.group(1).strip() == (
        "This text cannot be sent as it is: The block {% if vehicle %} is not closed: add "
        "{% endif %} where its text ends."
    )
    assert re.search(r'<pre id="template-preview"[^>]* hidden></pre>', page)
    shown = client.get(f"{URL}/en").text  # a valid text: its preview, no error
    assert re.search(r'id="template-preview-error" aria-live="polite" hidden>', shown)
    assert re.search(r'<pre id="template-preview"[^>]*>\S', shown)
