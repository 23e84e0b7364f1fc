"""The words a customer texts to stop, restart or ask for help."""

import pytest

from plugins.sms_module.compliance import keywords


@pytest.mark.parametrize(
    "text,opted_out,expected",
    [
        ("STOP", False, "stop"),
        ("stop", False, "stop"),
        (" Arrêt ", False, "stop"),
        ("ARRÊTER", False, "stop"),
        ("désabonner!", False, "stop"),
        ("optout", False, "stop"),
        ("START", True, "start"),
        ("début", True, "start"),
        ("unstop", False, "start"),
        ("oui", True, "start"),
        ("YES", True, "start"),
        ("yes", False, None),
        ("Aide", False, "help"),
        ("info", False, "help"),
        ("HELP", True, "help"),
        ("stop please", False, None),
        ("Merci!", False, None),
    ],
)
def test_keywords(text, opted_out, expected):
    assert keywords.classify(text, opted_out) == expected
