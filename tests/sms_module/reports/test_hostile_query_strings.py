"""Tampered query strings on the report pages get a clear answer, never a 500 (PRODUCT.md:
no 500, no traceback): a page cursor that cannot be read gives the first page, a ``shop``
that names no shop is ignored as an unknown shop is (every shop), a row id past any row is
not found, and a filter value that cannot be used is dropped with a note or matches
nothing, and a NUL character is refused with a 400 that says so (``refuse_nul_bytes``).
Each runs on SQLite and on PostgreSQL (``TEST_DATABASE_URL``), whose integer columns refuse
a value past their range."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from host.extensions import db
from plugins.sms_module.models import ConsentEvent, ConsentKind
from tests.sms_module.reports.support import NEW_REPORTS, OPERATOR, table
from tests.support_sms import login_en

REPORTS = (*NEW_REPORTS, "sms_consent_register", "legacy_sent_sms_log")
# Cursors a reader may type or tamper with: a doubled sign, a superscript digit (which
# ``str.isdigit`` takes for a digit, ``int`` and the database do not), an Arabic-Indic
# digit, ids past the integer columns (PostgreSQL's int4 and int8), a time past the calendar.
CURSORS = (
    "--5_1",
    "²_1",
    "1_²",
    "٣_1",
    "1_٣",
    "99999999999999999999_1",
    "1_99999999999999999999",
    "1_2147483648",
    "1_9223372036854775808",
    "-0_-0",
    "1 _1",
    "²",
    "٣",
    "-1",
    "2147483648",
    "99999999999999999999",
    "9" * 200,
    "1_1\n",
    "\u0661_\u0661",
)
# Values of the operator's ``shop`` filter that name no shop.
SHOPS = ("²", "٣", "2147483648", "99999999999999999999", "-1", "+1", "1\n", " 1", "999999")
MISSING_ROWS = ("2147483648", "9223372036854775808", "99999999999999999999")


def url(path: str, **params: str) -> str:
    return path + "?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items())


@pytest.fixture
def consents(app, everything):
    with app.app_context():
        for key in ("a", "b"):
            db.session.add(
                ConsentEvent(
                    company_id=everything[key]["shop"],
                    customer_id=everything[key]["customer"],
                    phone="+15145550101",
                    kind=ConsentKind.GIVEN,
                )
            )
        db.session.commit()
    return everything


@pytest.mark.parametrize("name", REPORTS)
def test_a_tampered_cursor_gives_the_first_page(client, consents, name):
    login_en(client, consents["a"]["admin"])
    first = client.get(f"/reports/{name}")
    assert first.status_code == 200
    rows = table(first)
    assert rows and rows != [["Nothing to show."]], name
    for cursor in CURSORS:
        response = client.get(url(f"/reports/{name}", after=cursor))
        assert response.status_code == 200, (name, cursor)
        assert table(response) == rows, (name, cursor)


@pytest.mark.parametrize("name", REPORTS)
def test_a_shop_that_names_no_shop_is_ignored_as_an_unknown_shop(client, consents, name):
    login_en(client, OPERATOR)
    every_shop = client.get(f"/reports/{name}")
    assert every_shop.status_code == 200
    rows = table(every_shop)
    csv = client.get(f"/reports/{name}.csv")
    assert csv.status_code == 200
    for shop in SHOPS:
        response = client.get(url(f"/reports/{name}", shop=shop))
        assert response.status_code == 200, (name, shop)
        assert table(response) == rows, (name, shop)
        assert " selected>" not in response.text.split('name="shop"')[1].split("</select>")[0]
        export = client.get(url(f"/reports/{name}.csv", shop=shop))
        assert export.status_code == 200, (name, shop)
        assert export.data == csv.data, (name, shop)
        paged = client.get(url(f"/reports/{name}", shop=shop, after="1_²"))
        assert paged.status_code == 200 and table(paged) == rows, (name, shop)


def test_the_operator_still_narrows_to_a_shop(client, consents):
    login_en(client, OPERATOR)
    shop = str(consents["b"]["shop"])
    response = client.get(url("/reports/sms_message_log", shop=shop))
    assert response.status_code == 200
    assert f'<option value="{shop}" selected>' in response.text
    assert {row[0] for row in table(response)} < {
        row[0] for row in table(client.get("/reports/sms_message_log"))
    }


@pytest.mark.parametrize("who", ["admin", OPERATOR])
def test_a_row_id_past_every_row_is_not_found(client, consents, who):
    login_en(client, consents["a"]["admin"] if who == "admin" else who)
    for row_id in MISSING_ROWS:
        response = client.get(f"/reports/sms_message_log/{row_id}")
        assert response.status_code == 404, row_id


# Filter values that cannot be used: control characters, digits other than ASCII ones,
# dates past any calendar, LIKE's wildcards. A date or a choice is dropped with a note.
FILTERS = {
    "phone": ("\x01", "+1²", "٥١٤", "5\x0114", "%_\\", "9" * 200),
    "from": ("٢٠٢٥-٠١-٠٥", "99999-01-01", "2025-1²-05", "2025-01-05T00", "\x7f"),
    "to": ("2025-13-45", "0000-01-01", "2025-01-0²", "-2025-01-05"),
    "status": ("\x01", "²", "deliver ed"),
    "queue": ("\x1b", "²"),
    "direction": ("\x01",),
    "period": ("day\x01", "²"),
    "action": ("\x01",),
}


@pytest.mark.parametrize("name", REPORTS)
@pytest.mark.parametrize("who", ["admin", OPERATOR])
def test_a_filter_value_that_cannot_be_used_never_fails(client, consents, name, who):
    login_en(client, consents["a"]["admin"] if who == "admin" else who)
    for param, values in FILTERS.items():
        for value in values:
            for path in (f"/reports/{name}", f"/reports/{name}.csv"):
                response = client.get(url(path, **{param: value}))
                assert response.status_code == 200, (path, param, value)
            page = client.get(url(f"/reports/{name}", **{param: value})).text
            if f'name="{param}"' in page and param != "phone":  # the report has the filter
                assert 'class="flash error" role="status"' in page, (name, param, value)


@pytest.mark.parametrize("param", ["after", "shop", "phone", "from", "status"])
def test_a_nul_character_is_refused_with_a_clear_answer(client, consents, param):
    login_en(client, OPERATOR)
    for path in ("/reports/sms_message_log", "/reports/sms_message_log.csv"):
        response = client.get(url(path, **{param: "1_1\x00"}))
        assert response.status_code == 400, (path, param)
        assert "Remove the invisible control characters." in response.text, (path, param)


@pytest.mark.parametrize("page", ["²", "٣", "-1", "0", "99999999999999999999", "1_0", "x"])
def test_the_reply_inbox_reads_any_page_number(client, consents, page):
    login_en(client, consents["a"]["staff"])
    response = client.get(url("/sms/replies/", page=page))
    assert response.status_code == 200, page


@pytest.mark.parametrize("phone", ["+1514555010²", "+1٥١٤5550101", "+15145550101\n", "²"])
def test_a_conversation_with_a_tampered_phone_is_not_found(client, consents, phone):
    login_en(client, consents["a"]["staff"])
    assert client.get("/sms/replies/" + quote(phone, safe="+")).status_code == 404, phone


@pytest.mark.parametrize("typed", ["%", "_", "%%", "5%1"])
def test_like_wildcards_in_the_legacy_log_phone_filter_match_only_themselves(
    client, consents, typed
):
    """``%`` and ``_`` typed in the phone filter are characters, not LIKE's wildcards."""
    login_en(client, consents["a"]["admin"])
    assert table(client.get(url("/reports/legacy_sent_sms_log", phone="5550101")))[0][0]
    assert table(client.get(url("/reports/legacy_sent_sms_log", phone=typed))) == [
        ["Nothing to show."]
    ]
