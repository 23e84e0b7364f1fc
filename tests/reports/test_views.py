"""The reports plugin's pages (``plugins/reports/views.py``): the list, a report with its
filters, notes, chart and row links, a row's detail, the CSV export, each shop's rows only."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping

import pytest
from sqlalchemy import select

from host.api import Chart, Customer, Report, ReportDetail, db, hookimpl
from plugins.reports import views
from tests.conftest import login
from tests.support_pages import page_text


def customer_rows(company, filters: Mapping[str, str]):
    """Yield ``(id, name, language, visits)`` of the customers ``company`` may see."""
    query = select(Customer).order_by(Customer.id)
    if company is not None:
        query = query.where(Customer.company_id == company.id)
    if filters.get("language") in ("en", "fr"):
        query = query.where(Customer.language == filters["language"])
    for customer in db.session.scalars(query):
        yield customer.id, customer.full_name, customer.language or "", 2


def customer_detail(company, row_id: int) -> ReportDetail | None:
    """Return a customer's detail, or ``None`` when ``company`` may not see them."""
    customer = db.session.get(Customer, row_id)
    if customer is None or (company is not None and customer.company_id != company.id):
        return None
    return ReportDetail(
        customer.full_name,
        [("Phone", customer.mobile_phone)],
        "Visits",
        ("day",),
        [("2031-03-04",)],
    )


def check_filters(filters: Mapping[str, str]) -> list[str]:
    language = filters.get("language", "")
    return [f"The language {language} is ignored."] if language not in ("", "en", "fr") else []


class ReportsPlugin:
    """Declare a report with every optional part, and one with none."""

    __name__ = "reports-test"

    @hookimpl
    def register_reports(self):
        return [
            Report(
                "test_customers",
                "A customers report",
                ("id", "name", "language", "visits"),
                customer_rows,
                description="Every customer, by language.",
                filters=("language", "since"),
                chart=Chart("language", "name", "visits", "Visits by language"),
                detail=customer_detail,
                check_filters=check_filters,
                filter_choices={"language": ("en", "fr")},
                filter_hints={"since": "YYYY-MM-DD"},
            ),
            Report("test_plain", "B plain report", ("n",), lambda company, filters: [(1,)]),
        ]


@pytest.fixture
def reports_client(make_app, shops):
    """Shop A's staff on an application with the test reports, reading English."""
    client = make_app(PLUGINS_EXTRA=[ReportsPlugin()]).test_client()
    login(client, shops["a"]["staff"])
    client.get("/language/en")
    return client


def test_the_list_shows_every_report_by_title(reports_client):
    page = page_text(reports_client.get("/reports/"))
    assert page.index("A customers report") < page.index("B plain report")
    assert "Every customer, by language." in page
    assert "Sent SMS log (previous SMS module)" in page  # the host's own report


def test_a_report_shows_its_shop_s_rows_filters_chart_and_links(reports_client, shops):
    page = page_text(reports_client.get("/reports/test_customers?language=de"))
    assert "The language de is ignored." in page
    assert '<option value="fr">fr</option>' in page
    assert 'placeholder="YYYY-MM-DD"' in page
    assert "<svg" in page and "Visits by language" in page
    customer = shops["a"]["customer"]
    assert f'href="/reports/test_customers/{customer}">{customer}</a>' in page
    assert "Client A" in page and "Client B" not in page
    plain = page_text(reports_client.get("/reports/test_plain"))
    assert "<svg" not in plain and "/reports/test_plain/1" not in plain


def test_a_row_s_detail_is_shown_to_its_shop_only(reports_client, shops):
    page = page_text(reports_client.get(f"/reports/test_customers/{shops['a']['customer']}"))
    assert "Client A" in page and "+15145550101" in page and "2031-03-04" in page
    other_shops = f"/reports/test_customers/{shops['b']['customer']}"
    assert reports_client.get(other_shops).status_code == 404
    assert reports_client.get("/reports/test_plain/1").status_code == 404


def test_unknown_reports_are_404(reports_client):
    for url in ("/reports/nothing", "/reports/nothing.csv", "/reports/nothing/1"):
        assert reports_client.get(url).status_code == 404, url


def test_the_export_is_the_whole_report_as_csv(reports_client, shops):
    response = reports_client.get("/reports/test_customers.csv?language=")
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="test_customers.csv"'
    assert response.is_streamed  # a large report is never held whole in memory
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")  # the UTF-8 byte-order mark
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    customer = str(shops["a"]["customer"])
    assert rows == [["id", "name", "language", "visits"], [customer, "Client A", "", "2"]]


def test_the_operator_sees_every_shop_until_picking_one(make_app, shops):
    client = make_app(PLUGINS_EXTRA=[ReportsPlugin()]).test_client()
    login(client, "operator@example.com")
    page = page_text(client.get("/reports/test_customers"))
    assert "Client A" in page and "Client B" in page
    client.post(f"/shops/{shops['b']['shop']}/pick")
    page = page_text(client.get("/reports/test_customers"))
    assert "Client B" in page and "Client A" not in page


def test_a_long_report_shows_its_first_rows_and_says_so(reports_client, monkeypatch):
    monkeypatch.setattr(views, "SHOWN_ROWS", 0)
    page = page_text(reports_client.get("/reports/test_plain"))
    assert "Only the first rows are shown: export the CSV for all of them." in page
