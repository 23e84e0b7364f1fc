"""CSV exports a spreadsheet opens safely (issue 13 §7): UTF-8 with a byte-order mark, cells
that would start a formula neutralised (OWASP), phone numbers kept as text with their +."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from host.api import Report, hookimpl
from host.csv_export import csv_lines, spreadsheet_cell
from tests.conftest import login

HOSTILE = (
    ("Élodie", '=HYPERLINK("http://evil.example","click")', "+15145550101"),
    ("@SUM(1+1)*cmd|' /C calc'!A0", "-2+3", "\tTab"),
    ("\rReturn", "plain - text", Decimal("-12.50")),
)


class HostileReport:
    """A report whose cells a customer could have typed."""

    __name__ = "reports-hostile"

    @hookimpl
    def register_reports(self):
        return [
            Report(
                "hostile", "Hostile cells", ("name", "note", "phone"), lambda c, f: iter(HOSTILE)
            )
        ]


@pytest.fixture
def hostile_client(make_app, shops):
    client = make_app(PLUGINS_EXTRA=[HostileReport()]).test_client()
    login(client, shops["a"]["staff"])
    return client


def test_the_export_starts_with_a_bom_so_excel_reads_utf8(hostile_client):
    data = hostile_client.get("/reports/hostile.csv").get_data()
    assert data.startswith(b"\xef\xbb\xbfname,note,phone\r\n")
    assert "Élodie".encode() in data and "Ã‰lodie".encode() not in data


def test_cells_that_would_start_a_formula_are_quoted_as_text(hostile_client):
    data = hostile_client.get("/reports/hostile.csv").get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(data)))
    assert rows[1] == ["Élodie", '\'=HYPERLINK("http://evil.example","click")', "'+15145550101"]
    assert rows[2] == ["'@SUM(1+1)*cmd|' /C calc'!A0", "'-2+3", "'\tTab"]
    assert rows[3] == ["'\rReturn", "plain - text", "-12.50"]  # a computed number stays one


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("+15145550101", "'+15145550101"),
        ("=1+1", "'=1+1"),
        ("-1", "'-1"),
        ("@A1", "'@A1"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Élodie", "Élodie"),
        ("", ""),
        (None, ""),
        (-3, -3),
        (Decimal("-0.0079"), Decimal("-0.0079")),
        (True, "True"),
    ],
)
def test_spreadsheet_cell(value, expected):
    assert spreadsheet_cell(value) == expected


def test_csv_lines_stream_in_chunks_with_one_bom():
    chunks = list(csv_lines(("n",), ((i,) for i in range(1200))))
    assert len(chunks) == 3 and chunks[0].startswith("\ufeffn\r\n0\r\n")
    assert "".join(chunks).count("\ufeff") == 1 and "".join(chunks).endswith("1199\r\n")


def test_the_consent_ledger_export_is_safe_too(client, app, shops):
    from tests.support_sms import give_consent, login_en

    with app.app_context():
        give_consent(shops["a"]["customer"])
    login_en(client, shops["a"]["admin"])
    for url in ("/sms/settings/consent.csv", "/reports/sms_consent_register.csv"):
        data = client.get(url).get_data()
        assert data.startswith(b"\xef\xbb\xbf"), url
        rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
        assert rows[0]["phone"].startswith("'+1"), rows[0]
