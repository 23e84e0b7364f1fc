"""Twilio's documented answers, errors included, through the real SDK over HTTP: each maps
to the right ``CarrierError``, and the requests carry what Twilio expects."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from plugins.sms_module.carriers.base import CarrierError
from plugins.sms_module.carriers.twilio import TwilioCarrier
from tests.sms_module.carriers.support import ACCOUNT_SID, CALLBACK, FROM, MESSAGES_PATH, SM_SID, TO


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
    "date_sent": "Thu, 24 Aug 2023 05:01:46 +0000",
    "body": "Hi",
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


def call(gateway: TwilioCarrier, operation: str):
    """Make one gateway call of the named kind."""
    if operation == "send":
        return gateway.send(to=TO, from_=FROM, body="Hi", status_callback=CALLBACK)
    if operation == "fetch":
        return gateway.fetch(SM_SID)
    return gateway.find(to=TO, from_=FROM, created_after=datetime(2024, 1, 1, tzinfo=UTC))


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
    gateway = TwilioCarrier(ACCOUNT_SID, "auth-token", stub.url)
    with pytest.raises(CarrierError) as caught:
        call(gateway, operation)
    assert caught.value.status == status
    assert caught.value.transient is transient
    assert caught.value.code == code


def test_fetch_of_an_unknown_sid_is_none_but_a_404_on_send_is_final(stub):
    stub.answer(404, twilio_error(404, 20404, "The requested resource was not found"))
    gateway = TwilioCarrier(ACCOUNT_SID, "auth-token", stub.url)
    assert gateway.fetch(SM_SID) is None
    with pytest.raises(CarrierError) as caught:
        call(gateway, "send")
    assert (caught.value.transient, caught.value.code) == (False, 20404)


def test_send_passes_our_callback_url_and_fields(stub):
    gateway = TwilioCarrier(ACCOUNT_SID, "auth-token", stub.url)
    message = call(gateway, "send")
    assert message.sid == SM_SID and message.to == TO and message.from_ == FROM
    method, path, form = stub.requests[-1]
    assert (method, path) == ("POST", MESSAGES_PATH)
    assert form == {"To": [TO], "From": [FROM], "Body": ["Hi"], "StatusCallback": [CALLBACK]}


def test_find_asks_for_one_page_of_the_pair_and_keeps_what_was_created_since(stub):
    # No DateSent filter: a message Twilio still holds has no date_sent, yet is ours.
    older = {**MESSAGE, "sid": "SM" + "1" * 32, "date_created": "Tue, 30 Apr 2024 12:00:00 +0000"}
    held = {**MESSAGE, "date_created": "Wed, 01 May 2024 12:31:00 +0000", "date_sent": None}
    stub.answer(200, {"messages": [held, older], "next_page_uri": MESSAGES_PATH + "?Page=1"})
    gateway = TwilioCarrier(ACCOUNT_SID, "auth-token", stub.url)
    found = gateway.find(to=TO, from_=FROM, created_after=datetime(2024, 5, 1, 12, 30, tzinfo=UTC))
    assert [m.sid for m in found] == [SM_SID] and found[0].body == "Hi"
    assert len(stub.requests) == 1  # the next page is never followed
    _, _, query = stub.requests[0]
    assert query["To"] == [TO] and query["From"] == [FROM]
    assert "DateSent>" not in query and query["PageSize"] == ["1000"]


def test_list_sent_asks_for_the_day_page_after_page(stub):
    stub.answer(200, {"messages": [MESSAGE], "next_page_uri": None})
    gateway = TwilioCarrier(ACCOUNT_SID, "auth-token", stub.url)
    pages = list(gateway.list_sent(datetime(2024, 5, 1, tzinfo=UTC).date()))
    assert [[m.sid for m in page] for page in pages] == [[SM_SID]]
    _, _, query = stub.requests[0]
    assert query["DateSent>"] == ["2024-05-01T00:00:00Z"]
    assert query["DateSent<"] == ["2024-05-02T00:00:00Z"]


def test_a_timeout_is_transient(stub):
    stub.release.clear()  # the stub holds the answer past the gateway's timeout
    gateway = TwilioCarrier(ACCOUNT_SID, "auth-token", stub.url, timeout=0.2)
    with pytest.raises(CarrierError) as caught:
        call(gateway, "send")
    assert caught.value.transient is True and caught.value.status is None


def test_a_refused_connection_is_transient(stub):
    url = stub.url
    stub.shutdown()
    stub.server_close()  # nothing listens on the port any more
    gateway = TwilioCarrier(ACCOUNT_SID, "auth-token", url, timeout=2)
    for operation in ("send", "fetch", "find"):
        with pytest.raises(CarrierError) as caught:
            call(gateway, operation)
        assert caught.value.transient is True
