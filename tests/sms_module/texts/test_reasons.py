"""Reasons stored as codes, read in the reader's language (``texts.reasons``; issue 12,
points 1 and 2): each code family in French and English, an unknown carrier code, and an
older row's English sentence shown as it is."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask_babel import force_locale

from host.extensions import db
from host.models import Company
from plugins.sms_module.models import SmsMessage
from plugins.sms_module.texts import labels, reasons


def read(app, locale: str, function, *args):
    with app.test_request_context(), force_locale(locale):
        return function(*args)


FAILURES = [
    # a rule's refusal at acceptance (PRODUCT.md §4)
    (
        ("no_consent", "no_consent"),
        "No express consent is on record for this recipient.",
        "Aucun consentement exprès n'est enregistré pour ce destinataire.",
    ),
    # a rule's refusal just before the carrier call
    (
        ("opted_out", "opted_out: before_sending"),
        "The phone opted out (STOP) before the message left.",
        "Le téléphone s'est désabonné (STOP) avant le départ du message.",
    ),
    # Twilio's error numbers we know
    (
        ("30003", "30003"),
        "The phone is unreachable (off, or out of coverage).",
        "Le téléphone est injoignable (éteint ou hors de la zone de couverture).",
    ),
    (
        ("21610", "21610"),
        "The recipient unsubscribed (replied STOP to this number).",
        "Le destinataire s'est désabonné (il a répondu STOP à ce numéro).",
    ),
    (
        ("21614", None),
        "The number is not a mobile number.",
        "Ce numéro n'est pas un numéro de cellulaire.",
    ),
    # an unknown carrier code
    (("99999", "99999"), "Carrier error 99999", "Erreur du transporteur 99999"),
    (
        ("carrier_error", "carrier_code: E777"),
        "Carrier error E777",
        "Erreur du transporteur E777",
    ),
    # the carrier failed it without a code
    (
        ("carrier_error", "carrier_error: undelivered"),
        "The carrier reported the message as Undelivered, without an error code.",
        "Le transporteur a signalé le message comme « Non livré », sans code d'erreur.",
    ),
    (
        ("carrier_error", "carrier_error"),
        "The carrier refused the message without giving an error code.",
        "Le transporteur a refusé le message sans donner de code d'erreur.",
    ),
]


@pytest.mark.parametrize(("stored", "english", "french"), FAILURES)
def test_each_failure_code_reads_in_the_readers_language(app, stored, english, french):
    assert read(app, "en", reasons.failure_text, *stored) == english
    assert read(app, "fr", reasons.failure_text, *stored) == french


def test_an_older_rows_english_sentence_is_shown_as_it_is(app):
    legacy = "Message body exceeds the carrier's limit"
    assert read(app, "fr", reasons.failure_text, "40404", legacy) == legacy
    assert read(app, "fr", reasons.history_text, "module", legacy) == legacy
    # ...but a code we know reads in the reader's language even on an older row.
    old = "No express consent is on record for this recipient: tick the box."
    assert read(app, "fr", reasons.failure_text, "no_consent", old).startswith(
        "Aucun consentement exprès"
    )
    assert read(app, "en", reasons.failure_text, None, None) == ""


HISTORY = [
    ("refused: no_consent", "Refused: No express consent", "Refusé : Aucun consentement"),
    (
        "refused_before_sending: no_consent",
        "The customer withdrew consent before the message left.",
        "Le client a retiré son consentement avant le départ du message.",
    ),
    ("appointment_not_upcoming: completed", "no longer upcoming", "n'est plus à venir"),
    ("consent_withdrawn", "The customer withdrew consent.", "Le client a retiré son"),
    ("retry: 30 -", "Tried again in 30 s: The carrier", "Nouvel essai dans 30 s : Le transporteur"),
    (
        "retry: 2 30008",
        "Tried again in 2 s: Unknown error",
        "Nouvel essai dans 2 s : Erreur inconnue",
    ),
    ("attempt: 2", "Delivery attempt 2", "Tentative d'envoi 2"),
    ("carrier_accepted: SM123", "The carrier accepted it (SM123).", "Le transporteur l'a accepté"),
    ("carrier_status: delivered", "The carrier reported: Delivered", "Le transporteur a signalé"),
    ("keyword_answer: STOP", "Answer to STOP", "Réponse à STOP"),
    ("sender: +15145550199", "From (514) 555-0199", "Depuis le (514) 555-0199"),
    ("disclaimer", "the disclaimer goes first", "l'avis part en premier"),
    ("quiet_hours", "Quiet hours", "Heures de silence"),
    ("30007", "The carrier filtered the message", "Le transporteur a filtré le message"),
    # A sentence an older version wrote is read as the code that took its place.
    ("consent withdrawn", "The customer withdrew consent.", "Le client a retiré son"),
]


@pytest.mark.parametrize(("detail", "english", "french"), HISTORY)
def test_each_history_detail_reads_in_the_readers_language(app, detail, english, french):
    assert english in read(app, "en", reasons.history_text, "module", detail)
    assert french in read(app, "fr", reasons.history_text, "module", detail)


def test_a_due_moment_is_written_in_the_shops_time(app, shops):
    with app.app_context():
        quebec = db.session.get(Company, shops["a"]["shop"])
        due = "due: " + datetime(2026, 12, 1, 19, 5, tzinfo=UTC).isoformat()
        assert read(app, "fr", reasons.history_text, "module", due, quebec) == (
            "Prévu le 1 déc. 2026, 14 h 05"
        )
        # The operator, with no shop, reads UTC, and is told so.
        assert read(app, "en", reasons.history_text, "module", due) == (
            "Due Dec 1, 2026, 7:05\u202fp.m. UTC"
        )


LABELS = [
    (labels.consent_kind_label, "given", "Consent given", "Consentement donné"),
    (labels.consent_kind_label, "withdrawn", "Consent withdrawn", "Consentement retiré"),
    (labels.consent_method_label, "paper", "Signed paper document", "Document papier signé"),
    (labels.opt_out_action_label, "opt_in", "Opt-in", "Réabonnement"),
    (labels.opt_out_action_label, "opt_out", "Opt-out", "Désabonnement"),
    (labels.source_label, "sms_keyword", "Keyword texted by the customer", "Mot-clé texté"),
    (labels.source_label, "staff", "Staff", "Employé"),
]


@pytest.mark.parametrize(("label", "value", "english", "french"), LABELS)
def test_ledger_values_read_as_labels(app, label, value, english, french):
    assert read(app, "en", label, value) == english
    assert read(app, "fr", label, value).startswith(french)
    assert read(app, "fr", label, None) == ""


def test_the_api_reads_the_reason_in_english_whatever_the_request_language(app):
    message = SmsMessage(failure_code="no_consent", failure_reason="no_consent")
    assert read(app, "fr", reasons.english_failure, message) == (
        "No express consent is on record for this recipient."
    )
    assert read(app, "fr", reasons.english_failure, SmsMessage()) is None
