"""The Twilio gateway: its requests pass Twilio's contract (Stoplight Prism serving Twilio's
OpenAPI description), its answers parse, and Twilio's error answers map to the right
``CarrierError``.

Twilio's description documents no error answers for Messages (only 200/201), so Prism's
``Prefer: code=400`` answers "not defined in the document". The error answers Twilio
documents (https://www.twilio.com/docs/errors) are therefore served by a small real HTTP
server below, in Twilio's two error formats, and read by the real SDK.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from plugins.sms_module.carriers import carrier_for
from plugins.sms_module.carriers.base import CarrierError
from plugins.sms_module.carriers.twilio import TwilioGateway
from plugins.sms_module.carriers.webhooks import (
    STATUS_MAP,
    local_status,
    signature_for,
    signature_valid,
)
from plugins.sms_module.models.statuses import Status, can_move

TO, FROM = "+15145550123", "+14385550001"
CALLBACK = "https://crm.example.com/sms/twilio/status?message_id=42"
SM_SID = "SM" + "0123456789abcdef" * 2
# A well-formed account SID: the spec's path pattern is ^AC[0-9a-fA-F]{32}$.
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
MESSAGES_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"


def prism_gateway(base_url: str, **headers: str) -> TwilioGateway:
    """Return a gateway aimed at Prism, with Prism's answer-selecting headers."""
    return TwilioGateway(ACCOUNT_SID, "auth-token", base_url, extra_headers=dict(headers))


def last_status(gateway: TwilioGateway) -> int:
    """Return the HTTP status of the gateway's last answer."""
    return gateway.http_client._test_only_last_response.status_code


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


def test_find_passes_the_contract_and_parses(prism_url):
    gateway = prism_gateway(prism_url)
    found = gateway.find(to=TO, from_=FROM, sent_after=datetime.now(UTC) - timedelta(minutes=5))
    assert last_status(gateway) == 200
    assert found and all(m.sid[:2] in {"SM", "MM"} for m in found)
    assert all(local_status(m.status) is not None for m in found)


def test_carrier_for_twilio_aims_the_sdk_at_the_configured_base_url(prism_url):
    carrier = carrier_for(
        {
            "SMS_PROVIDER": "twilio",
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": "auth-token",
            "TWILIO_API_BASE_URL": prism_url + "/",
        }
    )
    assert isinstance(carrier, TwilioGateway)
    assert carrier.send(to=TO, from_=FROM, body="Hi", status_callback=CALLBACK).sid.startswith("SM")


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


# --- Twilio's documented error answers, through the real SDK over HTTP ------------------


class TwilioStub(ThreadingHTTPServer):
    """An HTTP server answering every request with one scripted Twilio answer."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), StubHandler)
        self.status = 201
        self.body: str = json.dumps(MESSAGE)
        self.requests: list[tuple[str, str, dict]] = []
        self.release = threading.Event()  # held: requests hang until it is set
        self.release.set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def answer(self, status: int, body: object) -> None:
        self.status = status
        self.body = body if isinstance(body, str) else json.dumps(body)


class StubHandler(BaseHTTPRequestHandler):
    server: TwilioStub

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode()) if length else {}
        parts = urlsplit(self.path)
        self.server.requests.append((self.command, parts.path, {**parse_qs(parts.query), **form}))
        self.server.release.wait(timeout=30)
        payload = self.server.body.encode()
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _answer

    def log_message(self, *args) -> None:  # keep the test output quiet
        pass


MESSAGE = {
    "sid": SM_SID,
    "status": "queued",
    "to": TO,
    "from": FROM,
    "error_code": None,
    "error_message": None,
    "date_created": "Thu, 24 Aug 2023 05:01:45 +0000",
}


def twilio_error(status: int, code: int, message: str) -> dict:
    """Return Twilio's classic error body."""
    more_info = f"https://www.twilio.com/docs/errors/{code}"
    return {"code": code, "message": message, "more_info": more_info, "status": status}


@pytest.fixture
def stub():
    server = TwilioStub()
    # A short poll interval keeps shutdown() quick.
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def call(gateway: TwilioGateway, operation: str):
    """Make one gateway call of the named kind."""
    if operation == "send":
        return gateway.send(to=TO, from_=FROM, body="Hi", status_callback=CALLBACK)
    if operation == "fetch":
        return gateway.fetch(SM_SID)
    return gateway.find(to=TO, from_=FROM, sent_after=datetime(2024, 1, 1, tzinfo=UTC))


ERRORS = [
    # (HTTP status, body, transient, code kept)
    (400, twilio_error(400, 21610, "Attempt to send to unsubscribed recipient"), False, 21610),
    (
        400,
        twilio_error(400, 21211, "The 'To' number +1514 is not a valid phone number."),
        False,
        21211,
    ),
    (401, twilio_error(401, 20003, "Authenticate"), False, 20003),
    (429, twilio_error(429, 20429, "Too Many Requests"), True, 20429),
    (500, twilio_error(500, 20500, "Internal Server Error"), True, 20500),
    (503, "<html>Service Unavailable</html>", True, None),
    # Twilio's newer RFC 9457 problem format.
    (
        400,
        {
            "type": "https://www.twilio.com/docs/errors/21211",
            "title": "Invalid 'To' Phone Number",
            "status": 400,
            "code": 21211,
            "detail": "The 'To' number is not valid.",
        },
        False,
        21211,
    ),
]


@pytest.mark.parametrize("operation", ["send", "fetch", "find"])
@pytest.mark.parametrize(("status", "body", "transient", "code"), ERRORS)
def test_error_answers_map_to_carrier_errors(stub, operation, status, body, transient, code):
    stub.answer(status, body)
    gateway = TwilioGateway(ACCOUNT_SID, "auth-token", stub.url)
    with pytest.raises(CarrierError) as caught:
        call(gateway, operation)
    assert caught.value.status == status
    assert caught.value.transient is transient
    assert caught.value.code == code


def test_fetch_of_an_unknown_sid_is_none_but_a_404_on_send_is_final(stub):
    stub.answer(404, twilio_error(404, 20404, "The requested resource was not found"))
    gateway = TwilioGateway(ACCOUNT_SID, "auth-token", stub.url)
    assert gateway.fetch(SM_SID) is None
    with pytest.raises(CarrierError) as caught:
        call(gateway, "send")
    assert (caught.value.transient, caught.value.code) == (False, 20404)


def test_send_passes_our_callback_url_and_fields(stub):
    gateway = TwilioGateway(ACCOUNT_SID, "auth-token", stub.url)
    message = call(gateway, "send")
    assert message.sid == SM_SID and message.to == TO and message.from_ == FROM
    method, path, form = stub.requests[-1]
    assert (method, path) == ("POST", MESSAGES_PATH)
    assert form == {"To": [TO], "From": [FROM], "Body": ["Hi"], "StatusCallback": [CALLBACK]}


def test_find_asks_for_one_page_from_sender_to_recipient_since_the_date(stub):
    stub.answer(200, {"messages": [MESSAGE], "next_page_uri": MESSAGES_PATH + "?Page=1"})
    gateway = TwilioGateway(ACCOUNT_SID, "auth-token", stub.url)
    found = gateway.find(to=TO, from_=FROM, sent_after=datetime(2024, 5, 1, 12, 30, tzinfo=UTC))
    assert [m.sid for m in found] == [SM_SID]
    assert len(stub.requests) == 1  # the next page is never followed
    _, _, query = stub.requests[0]
    assert query["To"] == [TO] and query["From"] == [FROM]
    assert query["DateSent>"] == ["2024-05-01T12:30:00Z"]


def test_a_timeout_is_transient(stub):
    stub.release.clear()  # the stub holds the answer past the gateway's timeout
    gateway = TwilioGateway(ACCOUNT_SID, "auth-token", stub.url, timeout=0.2)
    with pytest.raises(CarrierError) as caught:
        call(gateway, "send")
    assert caught.value.transient is True and caught.value.status is None


def test_a_refused_connection_is_transient(stub):
    url = stub.url
    stub.shutdown()
    stub.server_close()  # nothing listens on the port any more
    gateway = TwilioGateway(ACCOUNT_SID, "auth-token", url, timeout=2)
    for operation in ("send", "fetch", "find"):
        with pytest.raises(CarrierError) as caught:
            call(gateway, operation)
        assert caught.value.transient is True


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


# --- Provider choice -----------------------------------------------------------------------


def test_carrier_for_twilio_needs_credentials():
    with pytest.raises(ValueError, match="TWILIO_ACCOUNT_SID"):
        carrier_for({"SMS_PROVIDER": "twilio", "TWILIO_AUTH_TOKEN": "x"})


def test_carrier_for_an_unknown_provider_says_which_are_known():
    with pytest.raises(ValueError, match="'twilio' or 'simulator'"):
        carrier_for({"SMS_PROVIDER": "carrier-pigeon"})


def test_carrier_for_simulator_returns_the_simulator(app):
    from plugins.sms_module.carriers import simulator

    app.config["SMS_PROVIDER"] = "simulator"
    with app.app_context():
        carrier = carrier_for(app.config)
    assert isinstance(carrier, simulator.SimulatorCarrier)
