"""Template errors in plain words (issue 12 point 9): each kind of mistake an administrator
makes is said as a sentence in their language, with the line when the text has several,
never with Jinja's own words ("unexpected '}'", "expected token 'end of print statement'")."""

from __future__ import annotations

import pytest
from jinja2 import TemplateSyntaxError, UndefinedError
from jinja2.sandbox import SecurityError

from plugins.sms_module.texts import templates as mt

# Words of Jinja's and Python's own messages: none may reach the administrator.
JINJA_WORDS = (
    "unexpected", "expected token", "end of print statement", "end of statement block",
    "end of template", "Encountered unknown tag", "Jinja", "is undefined", "Syntax error",
    "TemplateSyntaxError", "looking for the following tags", "innermost block",
)  # fmt: skip

ERRORS = [
    (
        "Bonjour {{ first_name",
        "A variable is not closed: add }} after first_name.",
        "Une variable n'est pas fermée : ajoutez }} après first_name.",
    ),
    (
        "Bonjour {{ first_name }, à demain",
        "A variable is not closed: add }} after first_name.",
        "Une variable n'est pas fermée : ajoutez }} après first_name.",
    ),
    (
        "Bonjour {{",
        "A {{ is not closed: write a variable's name, then }}, e.g. {{ first_name }}.",
        "Un {{ n'est pas fermé : écrivez le nom d'une variable, puis }}, p. ex. {{ first_name }}.",
    ),
    (
        "Bonjour {{ frist_name }}",
        "Unknown variable: {{ frist_name }}. Did you mean {{ first_name }}? Pick one from the "
        "list of variables.",
        "Variable inconnue : {{ frist_name }}. Vouliez-vous dire {{ first_name }}? "
        "Choisissez-en une dans la liste des variables.",
    ),
    (
        "Bonjour {{ client }}",
        "Unknown variable: {{ client }}. Pick one from the list of variables.",
        "Variable inconnue : {{ client }}. Choisissez-en une dans la liste des variables.",
    ),
    (
        "Bonjour {{ }}",
        "A {{ }} is empty: write a variable's name between the braces, e.g. {{ first_name }}.",
        "Une paire {{ }} est vide : écrivez le nom d'une variable entre les accolades, p. ex. "
        "{{ first_name }}.",
    ),
    (
        "Bonjour {{ first name }}",
        "{{ first name }} cannot be read: between {{ and }} write one variable of the list "
        "(its name has no spaces), e.g. {{ first_name }}.",
        "{{ first name }} est illisible : entre {{ et }}, écrivez une seule variable de la "
        "liste (son nom n'a pas d'espace), p. ex. {{ first_name }}.",
    ),
    (
        "Bonjour {{ first_name }},\n{% if vehicle %}votre {{ vehicle }} est prêt.",
        "Line 2: The block {% if vehicle %} is not closed: add {% endif %} where its text ends.",
        "Ligne 2 : Le bloc {% if vehicle %} n'est pas fermé : ajoutez {% endif %} là où son "
        "texte se termine.",
    ),
    (
        "Votre auto est prête.{% endif %}",
        "{% endif %} has no {% if %} before it: remove it, or add the {% if %} it belongs to.",
        "{% endif %} n'a pas de {% if %} avant lui : supprimez-le, ou ajoutez le {% if %} "
        "auquel il appartient.",
    ),
    (
        "{% if vehicle %}a{% else %}b{% else %}c{% endif %}",
        "{% else %} comes after the {% else %} of its block: {% else %} is the block's last part.",
        "{% else %} vient après le {% else %} de son bloc : {% else %} est la dernière partie "
        "du bloc.",
    ),
    (
        "{% if vehicle = 'RAV4' %}prêt{% endif %}",
        "The condition of {% if vehicle = 'RAV4' %} cannot be read: name a variable, e.g. "
        "{% if vehicle %}…{% endif %}.",
        "La condition de {% if vehicle = 'RAV4' %} est illisible : nommez une variable, p. ex. "
        "{% if vehicle %}…{% endif %}.",
    ),
    (
        "Merci {% endfor %}",
        "{% endfor %} is not a block messages may use: they use {% if %}, {% elif %}, "
        "{% else %}, {% endif %}.",
        "{% endfor %} n'est pas un bloc permis dans les messages : ils utilisent {% if %}, "
        "{% elif %}, {% else %}, {% endif %}.",
    ),
    (
        "Merci {% if vehicle",
        "A block is not closed: add %} after if vehicle.",
        "Un bloc n'est pas fermé : ajoutez %} après if vehicle.",
    ),
    (
        "Merci {# à revoir",
        "A comment is not closed: add #} where it ends.",
        "Un commentaire n'est pas fermé : ajoutez #} à sa fin.",
    ),
]


def errors_in(app, language: str, body: str) -> list[str]:
    with app.test_request_context(headers={"Accept-Language": language}):
        return mt.validate_body(body, mt.APPOINTMENT_BOOKED)


@pytest.mark.parametrize(("body", "english", "french"), ERRORS)
def test_each_mistake_is_one_plain_sentence_in_the_readers_language(app, body, english, french):
    assert errors_in(app, "en", body) == [english]
    assert errors_in(app, "fr", body) == [french]
    for sentence in (english, french):
        assert not [word for word in JINJA_WORDS if word.lower() in sentence.lower()]


def test_a_failure_while_filling_in_is_said_in_plain_words(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        try:
            mt.ENVIRONMENT.from_string("{{ frist_name }}").render()
        except UndefinedError as exc:
            undefined = exc
        unknown = mt.fill_error(undefined)
        refused = mt.fill_error(SecurityError("access to attribute '__class__' of 'str'"))
        syntax = mt.fill_error(TemplateSyntaxError("unexpected '}'", 1), "Hi {{ first_name }")
    assert unknown.startswith("Unknown variable: {{ frist_name }}. Did you mean {{ first_name }}?")
    assert refused.startswith("The message uses what messages may not use:")
    assert "__class__" not in refused
    assert syntax == "A variable is not closed: add }} after first_name."
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert mt.fill_error(undefined).startswith("Variable inconnue : {{ frist_name }}.")


def test_valid_templates_still_pass(app):
    with app.test_request_context():
        body = "Bonjour {{ first_name }},\n{% if vehicle %}{{ vehicle }}{% else %}auto{% endif %}"
        assert mt.validate_body(body, mt.VEHICLE_READY) == []
        assert mt.validate_body("100 % {# note #}prêt, {{ shop_name }}", mt.WELCOME) == []
