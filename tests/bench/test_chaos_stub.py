"""The chaos suite's carrier stub alone (``bench/chaos/carrier*.py``): Twilio's SDK creates,
fetches and lists against it, every create is recorded before its fault, and delivery
reports are signed like Twilio's and posted once, or held until released."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from bench.chaos.carrier_http import start_carrier
from plugins.sms_module.carriers.twilio import BaseUrlHttpClient

SID = "AC" + "5" * 32
TOKEN = "chaos-token"
TO, FROM = "+15145550001", "+14386013562"


@pytest.fixture
def stub():
    server = start_carrier(SID, TOKEN)
    yield server
    server.close()


def client(stub, token: str = TOKEN, timeout: float = 5) -> Client:
    return Client(SID, token, http_client=BaseUrlHttpClient(stub.url, timeout=timeout))


def wait_until(condition, timeout: float = 5.0) -> None:
    """Poll ``condition`` (the stub runs in threads) until true, or fail after ``timeout``."""
    pause = threading.Event()
    end = datetime.now(UTC) + timedelta(seconds=timeout)
    while not condition():
        assert datetime.now(UTC) < end, "timed out"
        pause.wait(0.01)


def test_the_sdk_creates_fetches_and_lists_with_paging(stub):
    twilio = client(stub)
    callback = "http://127.0.0.1:9/sms/twilio/status?message_id=42"
    first = twilio.messages.create(to=TO, from_=FROM, body="Your car is ready",
                                   status_callback=callback)  # fmt: skip
    assert first.sid.startswith("SM") and first.status == "queued" and first.body
    assert stub.state.creates_per_message() == {42: 1}
    assert twilio.messages(first.sid).fetch().to == TO
    with pytest.raises(TwilioRestException) as missing:
        twilio.messages("SM" + "0" * 32).fetch()
    assert missing.value.status == 404
    for i in range(4):
        twilio.messages.create(to=TO, from_=FROM, body=f"more {i}")
    twilio.messages.create(to="+15145550002", from_=FROM, body="someone else")
    listed = twilio.messages.list(to=TO, from_=FROM, page_size=2)  # three pages
    assert [m.body for m in listed][-1] == "Your car is ready"  # newest first
    assert len(listed) == 5
    # A message not sent yet has no date_sent: no DateSent filter matches it.
    fresh = twilio.messages.create(to=TO, from_=FROM, body="just now")
    stub.state.creates[fresh.sid].at += 60  # still queued at the carrier for a minute
    stub.state.creates[first.sid].at -= 1  # sent a second ago
    since = datetime.now(UTC) - timedelta(minutes=1)
    dated = {m.sid for m in twilio.messages.list(to=TO, date_sent_after=since)}
    assert first.sid in dated and fresh.sid not in dated
    assert fresh.sid in {m.sid for m in twilio.messages.list(to=TO)}


def test_a_wrong_password_is_refused(stub):
    with pytest.raises(TwilioRestException) as refused:
        client(stub, token="wrong").messages.create(to=TO, from_=FROM, body="hi")
    assert refused.value.status == 401 and stub.state.snapshot() == []


def test_each_fault_records_the_create_first_except_500_before(stub):
    stub.state.settings.hold, stub.state.settings.slow = 1.0, (0.2, 0.2)
    stub.state.plan("x", ["500_before", "500_after", "timeout", "drop", "slow", "none"])
    twilio = client(stub, timeout=0.5)
    outcomes = []
    for i in range(6):
        try:
            twilio.messages.create(to=TO, from_=FROM, body=f"x{i}")
            outcomes.append("201")
        except TwilioRestException as error:
            outcomes.append(str(error.status))
        except requests.RequestException as error:
            outcomes.append(type(error).__name__)
    assert outcomes == ["500", "500", "ReadTimeout", "ConnectionError", "201", "201"]
    assert [c.body for c in stub.state.snapshot()] == ["x1", "x2", "x3", "x4", "x5"]
    assert [r[3] for r in stub.state.refused] == ["x0"]
    assert dict(stub.state.faults_since(0)) == {
        "500_before": 1, "500_after": 1, "timeout": 1, "drop": 1, "slow": 1
    }  # fmt: skip


class Receiver(BaseHTTPRequestHandler):
    """Our status webhook: keeps each report and whether Twilio's signature checks."""

    def do_POST(self):  # noqa: N802
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(int(self.headers["Content-Length"]))
                                              .decode()).items()}  # fmt: skip
        url = f"http://127.0.0.1:{self.server.server_address[1]}{self.path}"
        valid = RequestValidator(TOKEN).validate(url, form, self.headers["X-Twilio-Signature"])
        self.server.got.append((form["MessageSid"], form["MessageStatus"], valid))
        self.send_response(200 if len(self.server.got) > 1 else 500)  # the first one fails
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    server.got = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_reports_are_signed_posted_once_or_held(stub, webhook):
    twilio = client(stub)
    url = f"http://127.0.0.1:{webhook.server_address[1]}/sms/twilio/status?message_id=7"
    sent = twilio.messages.create(to=TO, from_=FROM, body="a", status_callback=url)
    wait_until(lambda: len(stub.state.posts) == 2 and stub.state.idle())
    assert webhook.got == [(sent.sid, "sent", True), (sent.sid, "delivered", True)]
    assert [p.answer for p in stub.state.posts] == ["500", "200"]  # not posted again
    stub.state.reports("off")
    twilio.messages.create(to=TO, from_=FROM, body="b", status_callback=url)
    stub.state.reports("hold")
    held = twilio.messages.create(to=TO, from_=FROM, body="c", status_callback=url)
    assert stub.state.held == [(held.sid, "sent"), (held.sid, "delivered")]
    assert stub.state.release() == 2
    wait_until(lambda: len(webhook.got) == 4 and stub.state.idle())
    assert [g[0] for g in webhook.got[2:]] == [held.sid, held.sid]
