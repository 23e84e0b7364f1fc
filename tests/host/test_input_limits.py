"""Hostile and careless input to the host's forms (issue 13, point 4): a body too large is a
clear 413 page; damaged characters, too-long fields and out-of-range ids are form errors
(422); NUL is refused before any view; never a 500, never a row written."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.host.support_views import CUSTOMER, assert_refused
from tests.support_pages import page_text, row_counts

FORM = "application/x-www-form-urlencoded"
BIG_ID = str(2**70)


def forms(shops) -> dict[str, dict[str, str]]:
    """A valid form for each page that creates something (shop A's administrator)."""
    customer = str(shops["a"]["customer"])
    return {
        "/customers/new": CUSTOMER,
        f"/customers/{customer}": CUSTOMER,
        "/appointments/new": {
            "customer_id": customer,
            "starts_at": "2030-06-04T10:00",
            "vehicle": "Civic",
            "status": "booked",
        },
        "/invoices/new": {"customer_id": customer, "number": "F-77", "total": "10.00"},
        f"/companies/{shops['a']['shop']}": {
            "name": "Garage A2",
            "v2v_number": "V2V-9",
            "country": "CA",
            "province": "QC",
            "language": "fr",
        },
        "/users/new": {
            "email": "new@example.com",
            "name": "Nouvel employé",
            "role": "staff",
            "password": "long enough",
        },
    }


# The text field of each form the hostile value goes into.
TEXT_FIELD = {
    "/customers/new": "first_name",
    "/appointments/new": "vehicle",
    "/invoices/new": "number",
    "/users/new": "name",
}


def raw_form(fields: dict[str, str], field: str, encoded: str) -> bytes:
    """URL-encode ``fields``, with ``field`` given as already-encoded bytes ``encoded``."""
    parts = [f"{quote(k)}={quote(v)}" for k, v in fields.items() if k != field]
    return "&".join([*parts, f"{field}={encoded}"]).encode()


@pytest.mark.parametrize("url", ["/customers/new", "/appointments/new", "/invoices/new"])
def test_a_50_mb_form_is_a_clear_413_page_and_nothing_kept(admin, app, shops, url):
    before = row_counts(app)
    body = b"first_name=" + b"x" * (50 * 2**20)
    response = admin.post(url, data=body, content_type=FORM)
    assert response.status_code == 413
    assert "What you sent is too large." in page_text(response)
    assert row_counts(app) == before


def test_the_limit_is_a_setting_from_the_environment(make_app, monkeypatch):
    assert make_app().config["MAX_CONTENT_LENGTH"] == 2**20  # 1 MB by default
    monkeypatch.setenv("CRMHOST_MAX_CONTENT_LENGTH", "2048")
    app = make_app()
    assert app.config["MAX_CONTENT_LENGTH"] == 2048


def test_a_form_over_a_lowered_limit_is_413(make_app, shops):
    from tests.conftest import login

    app = make_app(MAX_CONTENT_LENGTH=2048)
    client = app.test_client()
    login(client, shops["a"]["admin"])
    response = client.post("/customers/new", data={**CUSTOMER, "last_name": "x" * 3000})
    assert response.status_code == 413


def multipart(fields: dict[str, str], field: str, raw: bytes) -> bytes:
    """A multipart form of ``fields``, with ``field`` given as the bytes ``raw``."""
    parts = [(k, v.encode()) for k, v in fields.items() if k != field] + [(field, raw)]
    body = b"".join(
        b'--XX\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % (k.encode(), v)
        for k, v in parts
    )
    return body + b"--XX--\r\n"


# Bytes no browser sends: read as the replacement character, refused as damaged text.
DAMAGED = [
    b"\xed\xa0\x80",  # a lone high surrogate, as CESU-8 bytes
    b"Bob\xed\xbf\xbf",  # a lone low surrogate
    b"caf\xe9",  # Latin-1, not UTF-8
    b"\xff\xfe",
]


@pytest.mark.parametrize("raw", DAMAGED)
@pytest.mark.parametrize("url", list(TEXT_FIELD))
def test_damaged_characters_are_a_form_error(admin, app, shops, url, raw):
    before = row_counts(app)
    data = multipart(forms(shops)[url], TEXT_FIELD[url], raw)
    response = admin.post(url, data=data, content_type="multipart/form-data; boundary=XX")
    assert_refused(app, response, before, "Type this text again: it holds a broken character")


def test_damaged_characters_in_a_shop_name_are_a_form_error(admin, app, shops):
    before = row_counts(app)
    url = f"/companies/{shops['a']['shop']}"
    data = multipart(forms(shops)[url], "name", b"Garage\xed\xa0\x80")
    response = admin.post(url, data=data, content_type="multipart/form-data; boundary=XX")
    assert_refused(app, response, before, "Type this text again: it holds a broken character")


def test_damaged_percent_escapes_stay_plain_text(admin, app, shops):
    """Werkzeug keeps a %-escape that is not UTF-8 as the text typed: no surrogate ever
    reaches the database through a URL-encoded form."""
    data = raw_form(CUSTOMER, "last_name", "%ED%A0%80")
    response = admin.post("/customers/new", data=data, content_type=FORM)
    assert response.status_code == 302
    assert "%ED%A0%80" in admin.get(response.location).text


def test_a_real_emoji_and_accents_are_kept(admin, app, shops):
    response = admin.post("/customers/new", data={**CUSTOMER, "last_name": "Émile 🚗"})
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("url", "field", "length", "message"),
    [
        ("/customers/new", "first_name", 100_000, "cannot be longer than 100 characters"),
        ("/appointments/new", "vehicle", 201, "cannot be longer than 200 characters"),
        ("/invoices/new", "number", 41, "cannot be longer than 40 characters"),
        ("/users/new", "name", 201, "cannot be longer than 200 characters"),
        ("/users/new", "password", 201, "between 8 and 200 characters"),
        ("COMPANY", "name", 201, "cannot be longer than 200 characters"),
        ("COMPANY", "v2v_number", 51, "cannot be longer than 50 characters"),
    ],
)
def test_too_long_fields_are_a_form_error(admin, app, shops, url, field, length, message):
    url = f"/companies/{shops['a']['shop']}" if url == "COMPANY" else url
    before = row_counts(app)
    response = admin.post(url, data={**forms(shops)[url], field: "x" * length})
    assert_refused(app, response, before, message)


@pytest.mark.parametrize(
    ("customer_id", "message"),
    [
        (BIG_ID, "Not a valid choice"),
        (str(2**31), "Not a valid choice"),
        ("-1", "Not a valid choice"),
        ("0", "Not a valid choice"),
        ("9" * 5000, "Invalid Choice: could not coerce"),  # past Python's 4,300 digits
        ("1e3", "Invalid Choice: could not coerce"),
    ],
)
@pytest.mark.parametrize("url", ["/appointments/new", "/invoices/new"])
def test_out_of_range_customer_id_is_a_form_error(admin, app, shops, url, customer_id, message):
    before = row_counts(app)
    response = admin.post(url, data={**forms(shops)[url], "customer_id": customer_id})
    assert_refused(app, response, before, message)


@pytest.mark.parametrize(
    ("url", "takes_post"),
    [
        (f"/customers/{BIG_ID}", True),
        (f"/customers/{2**31}", True),
        ("/customers/-1", True),
        (f"/customers/{BIG_ID}/appointments", False),
        (f"/appointments/{BIG_ID}", True),
        (f"/invoices/{BIG_ID}", False),
        (f"/companies/{BIG_ID}", True),
        (f"/users/{BIG_ID}", True),
    ],
)
def test_out_of_range_ids_in_urls_are_404(admin, url, takes_post):
    assert admin.get(url).status_code == 404
    if takes_post:
        assert admin.post(url, data={}).status_code == 404


@pytest.mark.parametrize(
    "url", [f"/appointments/new?customer_id={BIG_ID}", f"/invoices/new?customer_id={BIG_ID}"]
)
def test_out_of_range_id_in_a_query_is_ignored(admin, url):
    assert admin.get(url).status_code == 200


@pytest.mark.parametrize("url", list(TEXT_FIELD))
def test_nul_is_refused_before_any_view(admin, app, shops, url):
    before = row_counts(app)
    data = raw_form(forms(shops)[url], TEXT_FIELD[url], "a%00b")
    response = admin.post(url, data=data, content_type=FORM)
    assert response.status_code == 400
    assert "Remove the invisible control characters." in page_text(response)
    assert row_counts(app) == before
