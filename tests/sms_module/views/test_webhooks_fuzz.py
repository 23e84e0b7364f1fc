"""Issue 13, "Done when": hypothesis over the signed webhooks' parameters finds no 5xx.

Every parameter of the status callback (``POST /sms/twilio/status``) and of the inbound SMS
(``POST /sms/twilio/inbound``) takes any text (NUL, lone surrogates, long and short, any
script) or a huge integer; the body is sent as the bytes a client would send (surrogates
percent-encoded as they are, not UTF-8) and signed like Twilio over what the app decodes, so
each request reaches the view. Deterministic (``derandomize``) and bounded."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from plugins.sms_module import jobs
from plugins.sms_module.carriers.webhooks import STATUS_MAP, signature_for
from tests.support_pipeline import accepted_message, in_process_app, message

FUZZ = settings(
    derandomize=True,
    max_examples=120,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FORM = "application/x-www-form-urlencoded"

texts = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(codec=None), max_size=300),  # lone surrogates, NUL, any plane
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.just("9" * 5000),  # past Python's 4300-digit int() limit
    st.sampled_from(["whatsapp:+15145550101", "²", "١٢", "+1" + "5" * 30, "", " "]),
)


@pytest.fixture
def app(make_app, redis_url):
    return in_process_app(make_app)


def encode(params: dict[str, str]) -> bytes:
    """The form as a client sends it: UTF-8, surrogates as their own bytes (no valid UTF-8)."""
    return "&".join(
        f"{quote(k, safe='')}={quote(v.encode('utf-8', 'surrogatepass'), safe='')}"
        for k, v in params.items()
    ).encode()


def signed_post(client, app, path: str, params: dict[str, str]):
    """Post ``params`` signed over what the app decodes from them."""
    body = encode(params)
    decoded = Request(
        EnvironBuilder(method="POST", data=body, content_type=FORM).get_environ()
    ).form.to_dict()
    url = app.config["SMS_PUBLIC_BASE_URL"].rstrip("/") + path
    signature = signature_for(app.config["SMS_SIMULATOR_AUTH_TOKEN"], url, decoded)
    return client.post(
        path, data=body, content_type=FORM, headers={"X-Twilio-Signature": signature}
    )


@pytest.fixture
def sent(app, shops):
    with app.app_context():
        mid = accepted_message(shops)
        jobs.send_message(mid)
        found = message(mid)
        return found.id, found.provider_sid, found.phone, found.sender_number


def test_the_status_callback_never_answers_5xx(app, sent):
    mid, sid, _, _ = sent
    client = app.test_client()

    @FUZZ
    @given(
        message_id=st.one_of(texts, st.just(str(mid))),
        sid=st.one_of(texts, st.just(sid)),
        status=st.one_of(texts, st.sampled_from(sorted(STATUS_MAP))),
        code=st.one_of(texts, st.sampled_from(["21610", "30003"])),
        reason=texts,
    )
    def check(message_id, sid, status, code, reason):
        path = "/sms/twilio/status?message_id=" + quote(
            message_id.encode("utf-8", "surrogatepass"), safe=""
        )
        params = {"MessageSid": sid, "MessageStatus": status, "ErrorCode": code}
        params["ErrorMessage"] = reason
        response = signed_post(client, app, path, params)
        assert response.status_code < 500
        assert response.status_code != 403  # signed right: the view ran
        if "%00" not in path and "\x00" not in "".join(params.values()):
            assert response.status_code == 200

    check()


def test_the_inbound_webhook_never_answers_5xx(app, sent):
    _, _, phone, number = sent
    client = app.test_client()

    @FUZZ
    @given(
        sid=texts,
        sender=st.one_of(texts, st.just(phone)),
        to=st.one_of(texts, st.just(number)),
        body=st.one_of(texts, st.sampled_from(["STOP", "START", "HELP", "help me"])),
    )
    def check(sid, sender, to, body):
        params = {"MessageSid": sid, "From": sender, "To": to, "Body": body}
        response = signed_post(client, app, "/sms/twilio/inbound", params)
        assert response.status_code < 500
        assert response.status_code != 403
        if response.status_code == 400:  # NUL (refused by the host) or no sender, number, SID
            nul = "\x00" in "".join(params.values())
            assert nul or response.json["error"]["code"] == "invalid_inbound"

    check()
