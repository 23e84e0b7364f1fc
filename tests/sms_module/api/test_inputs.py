"""Hostile and careless input to the REST API (issue 13, points 4 and 8): each is refused
with the API's error shape, never a 500, and stores nothing."""

import json

import pytest
from sqlalchemy import func, select

from host.extensions import db
from plugins.sms_module.api import tokens
from plugins.sms_module.models import Kind, SmsMessage
from tests.sms_module.api import test_views
from tests.support_sms import ready_to_send

# The REST API tests' fixture (shop A ready to send, with a token) and shape check.
api, check = test_views.api, test_views.check
URL = "/api/v1/sms/messages"


def messages(app) -> int:
    """Count the messages the API stored (the disclaimer on record is not one)."""
    with app.app_context():
        return db.session.scalar(select(func.count()).where(SmsMessage.kind == Kind.API))


def post_raw(api, text: str | bytes, url: str = URL, **kwargs):
    """POST ``text`` as it is, with the JSON content type."""
    return api("POST", url, data=text, content_type="application/json", **kwargs)


def test_a_50_mb_body_is_refused_with_413_in_the_error_shape_and_nothing_kept(api, app, shops):
    huge = json.dumps({"customer_id": shops["a"]["customer"], "body": "x" * (50 * 2**20)})
    response = post_raw(api, huge)
    error = check(response, 413, "Error")["error"]
    assert error["code"] == "request_entity_too_large"
    assert "1048576 bytes" in error["message"]
    assert messages(app) == 0
    check(post_raw(api, huge, url="/api/v1/sms/segments"), 413, "Error")


def test_max_content_length_is_a_setting(make_app, shops):
    app = make_app(MAX_CONTENT_LENGTH=100)
    with app.app_context():
        ready_to_send(shops)
        _row, token = tokens.create_token(shops["a"]["shop"], "small", None)
    response = app.test_client().post(
        "/api/v1/sms/segments",
        json={"body": "x" * 200},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "request_entity_too_large"


@pytest.mark.parametrize(
    "text",
    [
        '{"body": "x", "to": "+15145550101", "extra": [[[[[[1]]]]]]}',
        '{"body": "x", "to": "+15145550101", "a": {"b": {"c": {"d": {"e": {}}}}}}',
        "[" * 100_000 + "]" * 100_000,  # past Python's recursion limit
        '{"body": ' + "[" * 50_000,  # and unterminated
    ],
)
@pytest.mark.parametrize("url", [URL, "/api/v1/sms/segments"])
def test_json_nested_too_deep_is_400(api, app, text, url):
    assert check(post_raw(api, text, url=url), 400, "Error")["error"]["code"] == "too_deep"
    assert messages(app) == 0


def test_json_a_few_levels_deep_is_read(api):
    text = '{"body": "Hi", "to": "+15145550101", "extra": [[[1]]]}'
    check(post_raw(api, text), 201, "Created")


@pytest.mark.parametrize(
    "text",
    [
        '{"body": "Hi \\u0000 there", "to": "+15145550101"}',  # NUL in the body
        '{"body": "Hi", "to": "+1514555\\u00000101"}',  # NUL in the phone
        '{"body": "Hi", "to": "+15145550101", "queue": "transactional\\u0000"}',
        '{"body": "Hi \\ud800 there", "to": "+15145550101"}',  # a lone high surrogate
        '{"body": "Hi \\udfff", "customer_id": CUSTOMER}',  # a lone low surrogate
        '{"body": "Hi", "to": "+15145550101", "\\ud83d": 1}',  # in a key
        '{"body": "Hi", "to": "+15145550101", "send_at": "2027-01-01T10:00\\ud800"}',
    ],
)
def test_nul_and_lone_surrogates_are_422_and_nothing_kept(api, app, shops, text):
    text = text.replace("CUSTOMER", str(shops["a"]["customer"]))
    response = post_raw(api, text)
    assert check(response, 422, "Error")["error"]["code"] == "invalid_characters"
    assert messages(app) == 0


def test_lone_surrogate_in_segments_is_422(api):
    response = post_raw(api, '{"body": "\\ud800"}', url="/api/v1/sms/segments")
    assert check(response, 422, "Error")["error"]["code"] == "invalid_characters"


def test_a_real_emoji_is_still_fine(api):
    # The pair \ud83d\ude97 is one character (🚗), not a lone surrogate.
    check(post_raw(api, '{"body": "Ready \\ud83d\\ude97", "to": "+15145550101"}'), 201, "Created")


@pytest.mark.parametrize("customer_id", [2**70, 2**31, -(2**63) - 1, 0, -1, True])
def test_customer_id_outside_the_id_column_is_400(api, app, customer_id):
    response = api("POST", URL, json={"body": "Hi", "customer_id": customer_id})
    assert check(response, 400, "Error")["error"]["code"] == "invalid_customer_id"
    assert messages(app) == 0


def test_customer_id_with_thousands_of_digits_is_400(api):
    response = post_raw(api, '{"body": "Hi", "customer_id": ' + "9" * 5000 + "}")
    check(response, 400, "Error")


@pytest.mark.parametrize(
    "url",
    [
        f"{URL}/{2**70}",
        f"{URL}/{2**31}",
        f"{URL}/-1",
        f"{URL}/99999999999999999999999999999999999999",
    ],
)
def test_message_id_outside_the_id_column_is_404_in_the_error_shape(api, url):
    check(api("GET", url), 404, "Error")


@pytest.mark.parametrize(
    "send_at",
    [
        "0001-01-01T00:00:00+14:00",  # overflows when moved to UTC
        "9999-12-31T23:59:59-12:00",
        "1899-12-31T23:00:00",
        "2101-01-01T00:00:00+00:00",
        "9999-12-31",
        # Checked once in UTC (issue 13 review): 2101-01-01T11:59:59Z, 1899-12-31T23:00Z.
        "2100-12-31T23:59:59-12:00",
        "1900-01-01T00:00:00+01:00",
    ],
)
def test_send_at_outside_1900_to_2100_is_400(api, app, send_at):
    response = api("POST", URL, json={"body": "Hi", "to": "+15145550101", "send_at": send_at})
    assert check(response, 400, "Error")["error"]["code"] == "invalid_send_at"
    assert messages(app) == 0


def test_send_at_in_range_is_accepted(api):
    response = api(
        "POST", URL, json={"body": "Hi", "to": "+15145550101", "send_at": "2100-12-31T10:00:00Z"}
    )
    assert check(response, 201, "Created")["send_at"].startswith("2100-12-31")


def test_send_at_is_in_range_once_in_utc(api):
    # 2101 in Dhaka is still 2100 in UTC: the year checked is the one stored.
    response = api(
        "POST",
        URL,
        json={"body": "Hi", "to": "+15145550101", "send_at": "2101-01-01T05:00:00+06:00"},
    )
    assert check(response, 201, "Created")["send_at"].startswith("2100-12-31T23:00:00")


def test_too_long_phone_is_400(api, app):
    response = api("POST", URL, json={"body": "Hi", "to": "5" * 5000})
    assert check(response, 400, "Error")["error"]["code"] == "invalid_to"
    assert messages(app) == 0


def test_too_long_body_is_422_and_nothing_kept(api, app, shops):
    response = api("POST", URL, json={"body": "é" * 100_000, "to": "+15145550101"})
    assert check(response, 422, "Error")["error"]["code"] == "too_long"
    assert messages(app) == 0
