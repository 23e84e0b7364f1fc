"""A refused or failed message stores codes, never a sentence (issue 12, point 1): its
``failure_reason`` and its history's details are read in the reader's language at display
time (``texts.reasons``)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from flask_babel import force_locale

from host.extensions import db
from host.models import Company, Customer
from plugins.sms_module.compliance import opt_out
from plugins.sms_module.models.statuses import Status
from plugins.sms_module.sending import send_job, service
from plugins.sms_module.texts.reasons import failure_text, history_text
from tests.support_pipeline import accepted_message, message
from tests.support_sms import module_on

SMS_MODULE = Path(__file__).parents[3] / "plugins" / "sms_module"


def test_a_refusal_at_acceptance_stores_its_code_in_any_language(app, shops):
    with app.app_context():
        module_on(shops["a"]["shop"])  # but no consent on record
        company = db.session.get(Company, shops["a"]["shop"])
        customer = db.session.get(Customer, shops["a"]["customer"])
        with app.test_request_context(), force_locale("fr"):
            with pytest.raises(service.SendRefused) as caught:
                service.request_send(company, customer=customer, body="Bonjour")
        kept = message(caught.value.message_id)
        assert (kept.failure_code, kept.failure_reason) == ("no_consent", "no_consent")
        assert kept.history[-1].detail == "refused: no_consent"
        with app.test_request_context(), force_locale("fr"):
            assert history_text(kept.history[-1].source, kept.history[-1].detail) == (
                "Refusé : Aucun consentement exprès n'est enregistré pour ce destinataire."
            )


def test_a_carriers_refusal_stores_the_carriers_code(app, shops):
    with app.app_context():
        mid = accepted_message(shops, phone="+15145550211")  # the simulator's 21211
        send_job.send_message(mid)
        found = message(mid)
        assert (found.status, found.failure_code, found.failure_reason) == (
            Status.FAILED,
            "21211",
            "21211",
        )
        assert found.history[-1].detail == "21211"
        with app.test_request_context(), force_locale("en"):
            assert failure_text(found.failure_code, found.failure_reason) == (
                "The number is not a valid phone number."
            )


def test_a_transient_carrier_error_notes_the_retry_as_a_code(app, shops):
    with app.app_context():
        mid = accepted_message(shops, phone="+15145550503")  # the carrier is unavailable
        send_job.send_message(mid)
        details = [h.detail for h in message(mid).history]
        assert any(d and d.startswith("retry: ") and d.endswith(" -") for d in details), details
        assert "sender: " in " ".join(d or "" for d in details)


def test_a_refusal_just_before_the_carrier_stores_its_code(app, shops):
    with app.app_context():
        mid = accepted_message(shops)
        opt_out.opt_out(message(mid).phone, "sms_keyword", None, "STOP")
        db.session.commit()
        assert send_job.send_message(mid) == "refused: opted_out"
        found = message(mid)
        assert found.failure_reason == "opted_out: before_sending"
        assert found.history[-1].detail == "refused_before_sending: opted_out"


# The calls that store a reason or a history line's detail.
WRITERS = {
    "fail",
    "refused",
    "move",
    "note",
    "withdraw",
    "start",
    "cancel_scheduled",
    "cancel_one",
    "withdraw_where",
    "cancel_reminders",
    "cancel_waiting",
}
# The packages this check covers (the views' and campaigns' writers have their own owners).
PACKAGES = ("sending", "compliance", "notifications", "conversations", "carriers", "models")


def _sentence(node: ast.AST) -> bool:
    """Tell whether ``node`` is text written for people: a string with a space, or an
    f-string (a code with an argument is made with ``codes.coded``)."""
    if isinstance(node, ast.JoinedStr):
        return True
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and " " in node.value


def test_no_sentence_is_passed_as_a_reason_or_detail():
    found = []
    for package in PACKAGES:
        for path in (SMS_MODULE / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call):
                    name = getattr(node.func, "attr", getattr(node.func, "id", ""))
                    values = [*node.args, *(k.value for k in node.keywords)]
                    if name in WRITERS and any(_sentence(v) for v in values):
                        found.append(f"{path.relative_to(SMS_MODULE)}:{node.lineno}")
                elif isinstance(node, ast.Assign):
                    targets = [getattr(t, "attr", "") for t in node.targets]
                    if {"failure_reason", "detail"} & set(targets) and _sentence(node.value):
                        found.append(f"{path.relative_to(SMS_MODULE)}:{node.lineno}")
    assert not found, f"a sentence stored as a reason or detail: {found}"
