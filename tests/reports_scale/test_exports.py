"""CSV exports of the long reports stream (issue 14, point 2): the answer is a generator
whose first chunk leaves before the database's last row is read, and the file holds every
row once. And the phone filter matches an E.164 beginning, never the middle of a number."""

from __future__ import annotations

import csv
import io
from zoneinfo import ZoneInfo

import pytest

from host.api import csv_lines
from host.extensions import db
from host.models import Company, Customer, utcnow
from plugins.sms_module.models import SmsMessage
from plugins.sms_module.reports import log as log_report
from plugins.sms_module.reports.filters import read_filters
from plugins.sms_module.reports.sql import stream
from tests.reports_scale.support import many_messages, newest_first_ids
from tests.sms_module.reports.support import OPERATOR, PHONES, csv_rows, report
from tests.support_sms import login_en

COUNT = 2600  # more than a few chunks, on either database's path


@pytest.mark.parametrize("who", ["staff", "operator"])
def test_the_log_export_streams_before_the_last_row_is_read(app, client, shops, monkeypatch, who):
    with app.app_context():
        many_messages(shops, "a", COUNT)
        expected = newest_first_ids(shops["a"]["shop"])
    read = []  # a mark per row the export has read from the database, whichever way

    def counted_rows(query):
        for row in real_stream(query):
            read.append(1)
            yield row

    def counted_text(query):
        for piece in real_copy(query):
            read.extend([1] * piece.count("\n"))
            yield piece

    real_stream, real_copy = log_report.stream, log_report.copy_csv
    monkeypatch.setattr(log_report, "stream", counted_rows)
    monkeypatch.setattr(log_report, "copy_csv", counted_text)
    login_en(client, OPERATOR if who == "operator" else shops["a"][who])
    response = client.get("/reports/sms_message_log.csv")
    assert response.status_code == 200 and response.is_streamed
    chunks = iter(response.response)
    first = next(chunks)
    assert first.startswith(b"\xef\xbb\xbfid,created_at,customer,phone,")
    assert len(read) < COUNT
    second = next(chunks)  # rows leave while the rest are still unread
    assert b"\r\n" in second and 0 < len(read) < COUNT
    text = (first + second + b"".join(chunks)).decode("utf-8-sig")
    response.close()
    rows = list(csv.reader(io.StringIO(text)))
    assert len(read) == COUNT and [int(r[0]) for r in rows[1:]] == expected
    assert rows[1][3] == "'" + PHONES["a"]  # a phone is text in a spreadsheet (issue 13 §7)


def test_the_registers_export_every_entry(app, client, shops):
    from plugins.sms_module.models import ConsentEvent, ConsentKind

    with app.app_context():
        db.session.add_all(
            ConsentEvent(
                company_id=shops["a"]["shop"],
                customer_id=shops["a"]["customer"],
                phone=PHONES["a"],
                kind=ConsentKind.DISCLAIMER_SENT,
                text=f'=Disclaimer {n}, "quoted"',
            )
            for n in range(700)
        )
        db.session.commit()
    login_en(client, shops["a"]["admin"])
    rows = csv_rows(client, "/reports/sms_consent_register.csv")
    assert rows[0][:3] == ["id", "customer_id", "customer"] and len(rows) == 701
    assert rows[1][4] == "disclaimer_sent" and rows[1][-1] == '=Disclaimer 0, "quoted"'


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("514", ["a", "a2"]),  # a North American beginning: +1 514…
        ("+1514555", ["a", "a2"]),
        ("1 514 555 0101", ["a"]),
        ("(514) 555-0101", ["a"]),  # the whole number: that phone only
        ("+15145550101", ["a"]),
        ("+336", ["fr"]),  # another country, with its +
        ("555", []),  # the middle of a number matches nothing: +1555…
        ("0101", []),
    ],
)
def test_the_phone_filter_matches_the_beginning_of_the_e164_number(
    app, client, shops, typed, expected
):
    phones = {"a": PHONES["a"], "a2": "+15145559999", "fr": "+33612345678"}
    with app.app_context():
        for phone in phones.values():
            many_messages(shops, "a", 1, phone=phone)
    login_en(client, OPERATOR)
    _page, exported = report(client, f"/reports/sms_message_log?phone={typed.replace('+', '%2B')}")
    assert sorted(row[3] for row in exported) == sorted(phones[k] for k in expected)


def test_the_database_writes_the_csv_python_would_write(app, client, shops):
    """On PostgreSQL the database writes the log's CSV: byte for byte what the Python path
    writes, tricky cells included (a formula's start, commas, quotes, a line break,
    accents, a refusal, a Sent message long without a report)."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite exports through Python only")
        customer = db.session.get(Customer, shops["a"]["customer"])
        customer.first_name, customer.last_name = '=Hélène, "la"', "Dubé\nCôté"
        many_messages(
            shops,
            "a",
            7,
            status=lambda n: ["failed", "sent", "delivered", "undelivered"][n % 4],
            failure_code=lambda n: [None, "30003", "opted_out"][n % 3],
            failure_reason=lambda n: [None, "a, b", '-"x"'][n % 3],
            sender_number=lambda n: None if n % 2 else "+14386013562",
        )
    login_en(client, shops["a"]["staff"])
    written = client.get("/reports/sms_message_log.csv").get_data(as_text=True)
    with app.test_request_context():
        criteria = read_filters({}, "America/Toronto")
        shop = db.session.get(Company, shops["a"]["shop"])
        query = log_report._query(shop, criteria, *log_report._READ)
        query = query.order_by(SmsMessage.created_at.desc(), SmsMessage.id.desc())
        rows = log_report._exported(stream(query), ZoneInfo(criteria.zone), utcnow())
        expected = "".join(csv_lines([str(c) for c in log_report.LOG_COLUMNS], rows))
    assert written == expected
