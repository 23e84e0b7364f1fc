"""The Twilio gateway: its requests pass Twilio's contract (Stoplight Prism serving Twilio's
OpenAPI description), and its answers parse.

Twilio's description documents no error answers for Messages (only 200/201), so Prism's
``Prefer: code=400`` answers "not defined in the document". The error answers Twilio
documents are therefore served by a small real HTTP server in ``test_twilio_answers``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from plugins.sms_module.carriers.base import CarrierError
from plugins.sms_module.carriers.webhooks import local_status
from plugins.sms_module.models.statuses import Status
from tests.sms_module.carriers.support import (
    ACCOUNT_SID,
    CALLBACK,
    FROM,
    MESSAGES_PATH,
    SM_SID,
    TO,
    last_status,
    prism_gateway,
)

# --- Contract: every request the gateway makes passes Twilio's description -------------


def test_send_passes_the_contract_and_parses(prism_url):
    gateway = prism_gateway(prism_url)
    message = gateway.send(
        to=TO, from_=FROM, body="Rendez-vous demain à 10 h", status_callback=CALLBACK
    )
    assert last_status(gateway) == 201
    assert message.sid.startswith("SM") and len(message.sid) == 34
    assert message.status == "queued"
    assert local_status(message.status) is Status.SENT
    assert message.date_created is not None


def test_send_answers_of_every_shape_the_spec_allows_parse(prism_url):
    # Prism invents each answer from the schema: any sid and status the contract allows.
    gateway = prism_gateway(prism_url, Prefer="dynamic=true")
    for _ in range(10):
        message = gateway.send(to=TO, from_=FROM, body="Hello", status_callback=CALLBACK)
        assert last_status(gateway) == 201
        assert message.sid[:2] in {"SM", "MM"}
        assert local_status(message.status) is not None, message.status


def test_fetch_passes_the_contract_and_parses(prism_url):
    gateway = prism_gateway(prism_url)
    message = gateway.fetch(SM_SID)
    assert last_status(gateway) == 200
    assert message is not None and message.sid.startswith("SM")
    assert local_status(message.status) is not None
    # The spec's example is a failed message: the carrier's error comes through as a number.
    assert message.error_code == 30007
    assert message.error_message == "Carrier violation"


def test_fetch_gives_what_reconciliation_compares(prism_url):
    # Body and dates: a carrier record is matched to a message by them (issue 15).
    message = prism_gateway(prism_url).fetch(SM_SID)
    assert message is not None and isinstance(message.body, str)
    assert message.date_created is not None and message.date_created.tzinfo is not None
    assert message.date_sent is None or message.date_sent.tzinfo is not None


def test_find_passes_the_contract_and_parses(prism_url):
    gateway = prism_gateway(prism_url)
    # The spec's example messages are years old: ask from long before them.
    found = gateway.find(to=TO, from_=FROM, created_after=datetime(2000, 1, 1, tzinfo=UTC))
    assert last_status(gateway) == 200
    assert found and all(m.sid[:2] in {"SM", "MM"} for m in found)
    assert all(local_status(m.status) is not None for m in found)
    assert all(m.body is not None and m.date_created is not None for m in found)
    # Only what was created since the moment asked for is kept.
    assert gateway.find(to=TO, from_=FROM, created_after=datetime.now(UTC)) == []


def test_list_sent_passes_the_contract_and_parses(prism_url):
    gateway = prism_gateway(prism_url)
    pages = gateway.list_sent((datetime.now(UTC) - timedelta(days=1)).date())
    first = next(pages)
    assert last_status(gateway) == 200
    assert first and all(m.sid[:2] in {"SM", "MM"} for m in first)
    assert all(local_status(m.status) is not None and m.from_ for m in first)


# --- The contract test would catch a bad request ----------------------------------------


def test_prism_rejects_a_request_that_breaks_the_contract(prism_url):
    answer = requests.post(
        prism_url + MESSAGES_PATH,
        data={"From": FROM, "Body": "no recipient"},
        auth=(ACCOUNT_SID, "auth-token"),
        timeout=10,
    )
    assert answer.status_code == 422
    messages = [item["message"] for item in answer.json()["validation"]]
    assert any("'To'" in message for message in messages), messages


def test_a_gateway_request_breaking_the_contract_fails_permanently(prism_url):
    # A relative callback URL breaks StatusCallback's "uri" format: Prism says 422.
    gateway = prism_gateway(prism_url)
    with pytest.raises(CarrierError) as caught:
        gateway.send(to=TO, from_=FROM, body="Hi", status_callback="/sms/twilio/status")
    assert caught.value.status == 422
    assert caught.value.transient is False
    assert caught.value.code is None  # Prism's problem answer carries no Twilio code
