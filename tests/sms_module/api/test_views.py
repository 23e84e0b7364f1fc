"""The REST API: tokens, shapes checked against its own OpenAPI description."""

import jsonschema
import pytest

from host.extensions import db
from host.models import Company
from plugins.sms_module.api import tokens
from plugins.sms_module.api.openapi import SPEC
from tests.support_sms import ready_to_send


def schema(name: str) -> dict:
    """Return a component schema with its references resolvable."""
    return {**SPEC["components"]["schemas"][name], "components": SPEC["components"]}


def check(response, status: int, name: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    jsonschema.validate(body, schema(name))
    return body


@pytest.fixture
def api(app, shops):
    """Shop A ready to send, with a token; return a function making authorised calls."""
    with app.app_context():
        ready_to_send(shops)
        _row, text = tokens.create_token(shops["a"]["shop"], "garage software", None)
        _row, other = tokens.create_token(shops["b"]["shop"], "other shop", None)
    client = app.test_client()

    def call(method, url, token=text, **kwargs):
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return client.open(url, method=method, headers=headers, **kwargs)

    call.other_token = other
    call.token = text
    return call


def test_send_then_read_status_and_history(api, shops):
    created = check(
        api(
            "POST",
            "/api/v1/sms/messages",
            json={"customer_id": shops["a"]["customer"], "body": "Bonjour"},
        ),
        201,
        "Created",
    )
    assert created["status"] == "queued"  # due now: already on its queue
    assert (created["segments"], created["encoding"]) == (1, "GSM-7")
    shown = check(api("GET", f"/api/v1/sms/messages/{created['id']}"), 200, "Message")
    assert [h["status"] for h in shown["history"]] == ["accepted", "scheduled", "queued"]
    assert shown["phone"] == "+15145550101" and shown["refused"] is False


def test_send_by_phone_number_and_idempotency_key(api):
    first = api(
        "POST",
        "/api/v1/sms/messages",
        json={"to": "514 555 0101", "body": "Hi"},
        headers={"Idempotency-Key": "k-1"},
    )
    again = api(
        "POST",
        "/api/v1/sms/messages",
        json={"to": "514 555 0101", "body": "Hi"},
        headers={"Idempotency-Key": "k-1"},
    )
    assert check(first, 201, "Created")["id"] == check(again, 200, "Created")["id"]


def test_token_required_and_revoked_token_refused(api, app, shops):
    check(api("GET", "/api/v1/sms/messages/1", token=None), 401, "Error")
    check(api("GET", "/api/v1/sms/messages/1", token="crm_nonsense"), 401, "Error")
    with app.app_context():
        row = tokens.token_owner(api.token)
        tokens.revoke_token(row)
    check(api("POST", "/api/v1/sms/segments", json={"body": "x"}), 401, "Error")


def test_another_shops_token_gets_404(api, shops):
    created = api(
        "POST", "/api/v1/sms/messages", json={"customer_id": shops["a"]["customer"], "body": "x"}
    )
    message_id = created.get_json()["id"]
    check(api("GET", f"/api/v1/sms/messages/{message_id}", token=api.other_token), 404, "Error")
    # Shop B's token cannot send to shop A's customer either.
    refused = api(
        "POST",
        "/api/v1/sms/messages",
        token=api.other_token,
        json={"customer_id": shops["a"]["customer"], "body": "x"},
    )
    assert check(refused, 404, "Error")["error"]["code"] == "customer_not_found"


def test_location_missing_is_422_with_code_and_nothing_scheduled(api, app, shops):
    with app.app_context():
        db.session.get(Company, shops["a"]["shop"]).country = None
        db.session.commit()
    response = api(
        "POST", "/api/v1/sms/messages", json={"customer_id": shops["a"]["customer"], "body": "x"}
    )
    error = check(response, 422, "Error")["error"]
    assert error["code"] == "location_missing"
    kept = check(api("GET", f"/api/v1/sms/messages/{error['message_id']}"), 200, "Message")
    assert kept["status"] == "failed" and kept["failure_code"] == "location_missing"
    # A rule's refusal, not the carrier's failure (issue 11, point 5).
    assert kept["refused"] is True


@pytest.mark.parametrize(
    "payload,code",
    [
        ("not json", "invalid_json"),
        ([1, 2], "invalid_json"),
        ({"customer_id": 1}, "invalid_body"),
        ({"body": "x"}, "invalid_recipient"),
        ({"body": "x", "customer_id": 1, "to": "+15145550101"}, "invalid_recipient"),
        ({"body": "x", "customer_id": "1"}, "invalid_customer_id"),
        ({"body": "x", "to": 5145550101}, "invalid_to"),
        ({"body": "x", "to": "+15145550101", "send_at": "tomorrow"}, "invalid_send_at"),
        ({"body": "x", "to": "+15145550101", "queue": 3}, "invalid_queue"),
    ],
)
def test_malformed_requests_get_400(api, payload, code):
    kwargs = (
        {"data": payload, "content_type": "application/json"}
        if isinstance(payload, str)
        else {"json": payload}
    )
    assert (
        check(api("POST", "/api/v1/sms/messages", **kwargs), 400, "Error")["error"]["code"] == code
    )


def test_rule_refusals_get_422(api, shops):
    response = api(
        "POST",
        "/api/v1/sms/messages",
        json={"customer_id": shops["a"]["customer"], "body": "x" * 1601},
    )
    assert check(response, 422, "Error")["error"]["code"] == "too_long"
    response = api(
        "POST",
        "/api/v1/sms/messages",
        json={"customer_id": shops["a"]["customer"], "body": "x", "queue": "promotional"},
    )
    assert check(response, 422, "Error")["error"]["code"] == "promotional_needs_campaign"


def test_segments_endpoint(api):
    body = check(
        api("POST", "/api/v1/sms/segments", json={"body": "Ça coûte 10 €"}), 200, "Segments"
    )
    assert body["encoding"] == "UCS-2" and body["unicode_characters"] == ["û"]
    body = check(api("POST", "/api/v1/sms/segments", json={"body": "a" * 200}), 200, "Segments")
    assert (body["segments"], body["units"]) == (2, 200)
    check(api("POST", "/api/v1/sms/segments", json={"body": "a" * 1601}), 422, "Error")
    check(api("POST", "/api/v1/sms/segments", json={"text": "a"}), 400, "Error")


def test_unknown_message_and_wrong_method(api):
    check(api("GET", "/api/v1/sms/messages/999999"), 404, "Error")
    check(api("DELETE", "/api/v1/sms/messages/1"), 405, "Error")
