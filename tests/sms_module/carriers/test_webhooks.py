"""Twilio's webhook protocol: every status word mapped to ours, and the signatures."""

from __future__ import annotations

import pytest
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from plugins.sms_module.carriers.webhooks import (
    STATUS_MAP,
    local_status,
    signature_for,
    signature_valid,
)
from plugins.sms_module.models.statuses import Status, can_move
from tests.sms_module.carriers.support import FROM, SM_SID, TO

# --- Status table -----------------------------------------------------------------------


def test_every_twilio_message_status_is_mapped(twilio_spec):
    enum = twilio_spec["components"]["schemas"]["message_enum_status"]["enum"]
    assert set(enum) <= set(STATUS_MAP), set(enum) - set(STATUS_MAP)
    assert all(local_status(status) in Status for status in enum)


@pytest.mark.parametrize(
    ("twilio", "ours"),
    [
        ("accepted", Status.SENT),
        ("queued", Status.SENT),
        ("sending", Status.SENT),
        ("sent", Status.SENT),
        ("delivered", Status.DELIVERED),
        ("read", Status.DELIVERED),
        ("undelivered", Status.UNDELIVERED),
        ("partially_delivered", Status.UNDELIVERED),
        ("failed", Status.FAILED),
        ("canceled", Status.FAILED),
        ("received", Status.RECEIVED),
        (" Delivered ", Status.DELIVERED),
        ("no-such-status", None),
        ("", None),
        (None, None),
    ],
)
def test_local_status(twilio, ours):
    assert local_status(twilio) is ours


def test_every_mapped_status_is_a_move_the_pipeline_allows():
    # A callback may arrive while we are still in Sending: each outbound answer must be a
    # legal move from there, or the callback would be dropped.
    for twilio, ours in STATUS_MAP.items():
        start = Status.RECEIVING if ours in {Status.RECEIVING, Status.RECEIVED} else Status.SENDING
        assert ours == start or can_move(start, ours), twilio


# --- Signatures ---------------------------------------------------------------------------


TOKEN = "12345678901234567890123456789012"
URL = "https://crm.example.com/sms/twilio/status?message_id=42"
PARAMS = {"MessageSid": SM_SID, "MessageStatus": "delivered", "To": TO, "From": FROM}


def test_a_signature_made_by_twilio_validates():
    signature = RequestValidator(TOKEN).compute_signature(URL, PARAMS)
    assert signature_valid(TOKEN, URL, PARAMS, signature)
    assert signature_valid(TOKEN, URL, MultiDict(PARAMS), signature)  # Flask's request.form


@pytest.mark.parametrize(
    ("token", "url", "params", "signature"),
    [
        (TOKEN, URL, {**PARAMS, "MessageStatus": "failed"}, None),  # a tampered parameter
        (TOKEN, URL.replace("42", "43"), PARAMS, None),  # another message's URL
        ("another-token-another-token-1234", URL, PARAMS, None),
        (TOKEN, URL, PARAMS, ""),
        (TOKEN, URL, PARAMS, "bm90IGEgc2lnbmF0dXJl"),
        (None, URL, PARAMS, None),
    ],
)
def test_a_wrong_signature_fails(token, url, params, signature):
    good = RequestValidator(TOKEN).compute_signature(URL, PARAMS)
    assert not signature_valid(token, url, params, good if signature is None else signature)


def test_signature_for_signs_as_twilio_does():
    signature = signature_for(TOKEN, URL, PARAMS)
    assert signature == RequestValidator(TOKEN).compute_signature(URL, PARAMS)
    assert signature_valid(TOKEN, URL, PARAMS, signature)
