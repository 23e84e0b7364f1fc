"""Idempotency-Key (issue 13, point 8): a key names one request; a replay of the same
request gets the first message, a different request with the key is refused, and a key too
long for its column is refused rather than cut."""

import pytest
from sqlalchemy import func, select

from host.extensions import db
from plugins.sms_module.models import Kind, SmsMessage
from plugins.sms_module.sending import service
from tests.sms_module.api import test_views

# The REST API tests' fixture (shop A ready to send, with a token) and shape check.
api, check = test_views.api, test_views.check
URL = "/api/v1/sms/messages"


def send(api, payload: dict, key: str):
    return api("POST", URL, json=payload, headers={"Idempotency-Key": key})


def messages(app) -> int:
    """Count the messages the API stored (the disclaimer on record is not one)."""
    with app.app_context():
        return db.session.scalar(select(func.count()).where(SmsMessage.kind == Kind.API))


def test_same_key_same_request_replays_the_first_message(api, app):
    first = check(send(api, {"to": "+15145550101", "body": "Hi"}, "k-1"), 201, "Created")
    # The same request, its JSON written in another order and spacing.
    again = api(
        "POST",
        URL,
        data='{ "body" : "Hi",  "to": "+15145550101", "queue": "transactional" }',
        content_type="application/json",
        headers={"Idempotency-Key": "k-1"},
    )
    assert check(again, 200, "Created")["id"] == first["id"]
    assert messages(app) == 1


@pytest.mark.parametrize(
    "changed",
    [
        {"body": "Hi!"},
        {"to": "+15145550102"},
        {"send_at": "2030-01-01T10:00:00Z"},
    ],
)
def test_same_key_with_a_different_body_is_422_reused(api, app, changed):
    first = check(send(api, {"to": "+15145550101", "body": "Hi"}, "k-2"), 201, "Created")
    response = send(api, {"to": "+15145550101", "body": "Hi", **changed}, "k-2")
    assert check(response, 422, "Error")["error"]["code"] == "idempotency_key_reused"
    assert messages(app) == 1
    with app.app_context():
        assert db.session.get(SmsMessage, first["id"]).body == "Hi"


@pytest.mark.parametrize(
    "same_instant",
    ["2030-01-01T10:00:00+00:00", "2030-01-01T05:00:00-05:00", "2030-01-01T10:00:00"],
)
def test_send_at_written_another_way_is_the_same_request(api, app, same_instant):
    # Issue 13 review: the raw strings differed, a replay was a false idempotency_key_reused.
    payload = {"to": "+15145550101", "body": "Hi", "send_at": "2030-01-01T10:00:00Z"}
    first = check(send(api, payload, "k-t"), 201, "Created")
    again = send(api, {**payload, "send_at": same_instant}, "k-t")
    assert check(again, 200, "Created")["id"] == first["id"]
    assert messages(app) == 1


def test_the_fingerprint_is_kept_with_the_message(api, app):
    first = check(send(api, {"to": "+15145550101", "body": "Hi"}, "k-3"), 201, "Created")
    with app.app_context():
        kept = db.session.get(SmsMessage, first["id"])
        assert len(kept.request_fingerprint) == 64


def test_a_key_is_per_shop(api, app):
    payload = {"to": "+15145550101", "body": "Hi"}
    check(send(api, payload, "k-4"), 201, "Created")
    other = api(
        "POST",
        URL,
        token=api.other_token,
        json={"to": "+14165550102", "body": "Other"},
        headers={"Idempotency-Key": "k-4"},
    )
    assert other.status_code != 500 and other.status_code != 200  # not shop A's message


def test_a_message_stored_before_fingerprints_replays(api, app):
    first = check(send(api, {"to": "+15145550101", "body": "Hi"}, "k-5"), 201, "Created")
    with app.app_context():
        db.session.get(SmsMessage, first["id"]).request_fingerprint = None
        db.session.commit()
    again = send(api, {"to": "+15145550101", "body": "Hi"}, "k-5")
    assert check(again, 200, "Created")["id"] == first["id"]


def test_a_key_longer_than_its_column_is_refused_not_cut(api, app):
    key = "k" * 80
    check(send(api, {"to": "+15145550101", "body": "Hi"}, key), 201, "Created")
    # Cut at 80, these two keys would be the first one: each is refused instead.
    for longer in (key + "x", "k" * 5000):
        response = send(api, {"to": "+15145550101", "body": "Other"}, longer)
        assert check(response, 422, "Error")["error"]["code"] == "idempotency_key_too_long"
    assert messages(app) == 1


@pytest.mark.parametrize("key", ["clé-1", "tab\tkey"])
def test_a_key_outside_printable_ascii_is_refused(api, app, key):
    response = send(api, {"to": "+15145550101", "body": "Hi"}, key)
    assert check(response, 422, "Error")["error"]["code"] == "invalid_idempotency_key"
    assert messages(app) == 0


def test_a_race_lost_to_a_different_request_is_422(api, app, monkeypatch):
    """Another process stores a different request under the key between the API's look-up
    and its insert: the service hands back that message, and the API refuses."""
    first = check(send(api, {"to": "+15145550101", "body": "Hi"}, "k-6"), 201, "Created")
    real_by_key, misses = service.by_key, []

    def late_by_key(key):
        """Miss the first two look-ups (the API's, the service's): the other process's
        insert lands just after them; the insert's conflict then finds it."""
        if len(misses) < 2:
            misses.append(key)
            return None
        return real_by_key(key)

    monkeypatch.setattr(service, "by_key", late_by_key)
    response = send(api, {"to": "+15145550101", "body": "Other"}, "k-6")
    assert check(response, 422, "Error")["error"]["code"] == "idempotency_key_reused"
    with app.app_context():
        assert db.session.get(SmsMessage, first["id"]).body == "Hi"
    assert messages(app) == 1


def test_a_race_lost_to_the_same_request_is_a_replay_200(api, app, monkeypatch):
    """Two identical requests with one key at once: the one whose insert loses gets the
    winner's message as a replay (200), not a second 201."""
    first = check(send(api, {"to": "+15145550101", "body": "Hi"}, "k-7"), 201, "Created")
    real_by_key, misses = service.by_key, []

    def late_by_key(key):
        if len(misses) < 2:  # the API's and the service's look-ups came before the insert
            misses.append(key)
            return None
        return real_by_key(key)

    monkeypatch.setattr(service, "by_key", late_by_key)
    again = send(api, {"to": "+15145550101", "body": "Hi"}, "k-7")
    assert check(again, 200, "Created")["id"] == first["id"]
    assert messages(app) == 1
