"""The SMS module's reports (§11): status report with its chart, message log with each
message's status history, segments and cost, delivery performance, error codes and the
opt-out register; their figures on the page and in the CSV, their filters, and isolation."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event

from host.extension_points import Chart
from host.extensions import db
from host.models import utcnow
from plugins.reports.views import chart_layout
from plugins.sms_module.models import (
    OptOutAction,
    OptOutEvent,
    Queue,
    SmsMessage,
    SmsStatusChange,
)
from plugins.sms_module.models.statuses import Status
from plugins.sms_module.reports import NO_REPORT
from tests.support_pages import page_text
from tests.support_sms import login_en

PHONES = {"a": "+15145550101", "b": "+14165550102"}
# Shop A and B are in Quebec and Ontario: America/Toronto, UTC-5 in January.
T0 = datetime(2025, 1, 5, 15, 0, tzinfo=UTC)  # 10:00 in the shops
T = Queue.TRANSACTIONAL
P = Queue.PROMOTIONAL
OPERATOR = "operator@example.com"
NEW_REPORTS = (
    "sms_status_report",
    "sms_message_log",
    "sms_cost",
    "sms_delivery",
    "sms_error_codes",
    "sms_opt_out_register",
)


def add_message(
    shops,
    key: str,
    *,
    status: Status,
    created: datetime = T0,
    queue: Queue = T,
    direction: str = "outbound",
    kind: str = "manual",
    segments: int = 1,
    attempts: int = 1,
    price: str = "0.00830",
    code: str | None = None,
    reason: str | None = None,
    sender: str | None = "+14386013562",
    updated: datetime | None = None,
    steps: tuple = (),
    body: str = "Hello",
) -> int:
    """Store a message of shop ``key`` with its history: ``steps`` are
    (status, seconds after ``created``, source, detail)."""
    message = SmsMessage(
        company_id=shops[key]["shop"],
        customer_id=shops[key]["customer"],
        direction=direction,
        kind=kind,
        phone=PHONES[key],
        body=body,
        queue=queue,
        status=status,
        failure_code=code,
        failure_reason=reason,
        sender_number=sender,
        segments=segments,
        attempts=attempts,
        price=Decimal(price),
        currency="CAD",
        created_at=created,
        updated_at=updated or created,
    )
    db.session.add(message)
    db.session.flush()
    for step, seconds, source, detail in steps:
        db.session.add(
            SmsStatusChange(
                message_id=message.id,
                status=step,
                at=created + timedelta(seconds=seconds),
                source=source,
                detail=detail,
            )
        )
    db.session.commit()
    return message.id


def table(response, which: int = 0) -> list[list[str]]:
    """Return the cells of the page's first (or ``which``) table body, as text."""
    body = response.get_data(as_text=True)
    tbody = re.findall(r"<tbody>(.*?)</tbody>", body, re.S)[which]
    return [
        [
            html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)
        ]
        for tr in re.findall(r"<tr>(.*?)</tr>", tbody, re.S)
    ]


def csv_rows(client, url: str) -> list[list[str]]:
    response = client.get(url)
    assert response.status_code == 200, url
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def report(client, url: str) -> tuple[list[list[str]], list[list[str]]]:
    """Return the report's page rows and CSV rows (without the header)."""
    page = client.get(url)
    assert page.status_code == 200, url
    path, _, query = url.partition("?")
    exported = csv_rows(client, f"{path}.csv" + (f"?{query}" if query else ""))
    return table(page), exported[1:]


def strings(rows) -> list[list[str]]:
    return [[str(v) for v in row] for row in rows]


def notes(response) -> list[str]:
    body = page_text(response)
    return re.findall(r'<p class="flash error" role="status">(.*?)</p>', body, re.S)


# --- Status report -----------------------------------------------------------------------


@pytest.fixture
def statuses(app, shops):
    with app.app_context():
        for _ in range(2):
            add_message(shops, "a", status=Status.DELIVERED)
        add_message(shops, "a", status=Status.FAILED, created=T0 + timedelta(hours=1))
        add_message(shops, "a", status=Status.DELIVERED, queue=P, created=T0 + timedelta(hours=2))
        # 03:00 UTC on the 6th is 22:00 on the 5th in the shop, and on the 6th for the operator.
        add_message(
            shops, "a", status=Status.DELIVERED, created=datetime(2025, 1, 6, 3, tzinfo=UTC)
        )
        # Sent long ago with no delivery report; sent just now (still waiting).
        add_message(shops, "a", status=Status.SENT, created=T0 + timedelta(days=2))
        add_message(
            shops, "a", status=Status.SENT, created=T0 + timedelta(days=2), updated=utcnow()
        )
        add_message(
            shops, "a", status=Status.RECEIVED, direction="inbound", created=T0 + timedelta(days=2)
        )
        add_message(shops, "b", status=Status.DELIVERED)
    return shops


SHOP_A_STATUS = [
    ["2025-01-05", "promotional", "delivered", "1"],
    ["2025-01-05", "transactional", "delivered", "3"],
    ["2025-01-05", "transactional", "failed", "1"],
    ["2025-01-07", "transactional", "sent", "1"],
    ["2025-01-07", "transactional", NO_REPORT, "1"],
]


def test_status_report_counts_outbound_messages_by_shop_day_queue_and_status(client, statuses):
    login_en(client, statuses["a"]["staff"])
    page, exported = report(client, "/reports/sms_status_report")
    assert page == SHOP_A_STATUS
    assert exported == SHOP_A_STATUS
    assert csv_rows(client, "/reports/sms_status_report.csv")[0] == [
        "day",
        "queue",
        "status",
        "messages",
    ]


def test_operator_status_report_counts_every_shop_in_utc_days(client, statuses):
    login_en(client, OPERATOR)
    page, exported = report(client, "/reports/sms_status_report")
    assert (
        page
        == exported
        == [
            ["2025-01-05", "promotional", "delivered", "1"],
            ["2025-01-05", "transactional", "delivered", "3"],  # two of A's, B's
            ["2025-01-05", "transactional", "failed", "1"],
            ["2025-01-06", "transactional", "delivered", "1"],
            ["2025-01-07", "transactional", "sent", "1"],
            ["2025-01-07", "transactional", NO_REPORT, "1"],
        ]
    )


def test_status_report_draws_a_stacked_bar_per_day(client, statuses):
    login_en(client, statuses["a"]["admin"])
    body = page_text(client.get("/reports/sms_status_report"))
    svg = re.search(r"<svg[^>]*role=\"img\".*?</svg>", body, re.S).group(0)
    assert 'aria-labelledby="chart-title chart-desc"' in svg
    assert '<title id="chart-title">Outbound messages by day and status</title>' in svg
    bars = dict(re.findall(r'<g class="bar" data-x="([^"]+)" data-total="([^"]+)"', svg))
    assert bars == {"2025-01-05": "5", "2025-01-07": "2"}
    parts = re.findall(r'data-series="([^"]+)" data-value="([^"]+)"', svg)
    # Bottom to top, in the life of a message; a day's queues add up.
    assert parts == [
        ("delivered", "4"),
        ("failed", "1"),
        ("sent", "1"),
        (NO_REPORT, "1"),
    ]
    heights = [float(h) for h in re.findall(r'<rect [^>]*height="([\d.]+)"\s', svg)]
    assert heights[0] == pytest.approx(4 * heights[1], rel=0.01)  # the bars are to scale
    legend = re.search(r'<ul class="chart-legend".*?</ul>', body, re.S).group(0)
    assert [s.strip() for s in re.findall(r"</svg>([^<]+)</li>", legend)] == [
        "sent",
        NO_REPORT,
        "delivered",
        "failed",
    ]


def test_status_report_filters_by_dates_and_queue(client, statuses):
    login_en(client, statuses["a"]["staff"])
    rows, exported = report(client, "/reports/sms_status_report?from=2025-01-06")
    assert rows == exported == SHOP_A_STATUS[3:]
    rows, exported = report(client, "/reports/sms_status_report?from=2025-01-05&to=2025-01-05")
    assert rows == exported == SHOP_A_STATUS[:3]
    rows, exported = report(client, "/reports/sms_status_report?queue=promotional")
    assert rows == exported == SHOP_A_STATUS[:1]
    page = client.get("/reports/sms_status_report?queue=promotional&from=2025-01-05")
    assert '<option value="promotional" selected>' in page.text
    assert 'name="from" value="2025-01-05" placeholder="YYYY-MM-DD"' in page.text
    assert (
        'href="/reports/sms_status_report.csv?from=2025-01-05&amp;to=&amp;queue=promotional"'
        in page.text
    )


@pytest.mark.parametrize(
    ("query", "note"),
    [
        ("from=2025-13-01", "The “from” date “2025-13-01” is not a date written YYYY-MM-DD"),
        ("to=yesterday", "The “to” date “yesterday” is not a date written YYYY-MM-DD"),
        ("queue=urgent", "The “queue” filter “urgent” is not one of: transactional, promotional"),
        ("to=9999-12-31", "The “to” date “9999-12-31” is out of range: it is ignored."),
    ],
)
def test_status_report_ignores_an_invalid_filter_and_says_so(client, statuses, query, note):
    login_en(client, statuses["a"]["staff"])
    response = client.get(f"/reports/sms_status_report?{query}")
    assert response.status_code == 200
    assert len(notes(response)) == 1 and note in notes(response)[0]
    assert table(response) == SHOP_A_STATUS
    assert csv_rows(client, f"/reports/sms_status_report.csv?{query}")[1:] == SHOP_A_STATUS
    assert notes(client.get("/reports/sms_status_report?from=2025-01-05")) == []


def test_from_after_to_is_said_and_shows_nothing(client, statuses):
    login_en(client, statuses["a"]["staff"])
    response = client.get("/reports/sms_status_report?from=2025-02-01&to=2025-01-01")
    assert notes(response) == ["The “from” date is after the “to” date: no row matches."]
    assert table(response) == [["Nothing to show."]]
    assert "<svg" not in response.text  # no chart without rows


# --- Chart layout (any report may declare one) --------------------------------------------


def test_chart_layout_stacks_series_and_skips_what_it_cannot_draw():
    chart = Chart(x="week", series="kind", value="n", colors={"b": "#000000"})
    rows = [("w1", "a", 2), ("w1", "b", 3), ("w2", "a", Decimal("1.5")), ("w2", "c", "n/a")]
    layout = chart_layout(chart, ("week", "kind", "n"), rows)
    assert [(b.label, b.total) for b in layout.bars] == [("w1", "5"), ("w2", "1.5")]
    assert [(p.series, p.value) for p in layout.bars[0].parts] == [("b", "3"), ("a", "2")]
    assert layout.legend[0] == ("b", "#000000")  # the report's colour, first
    assert [t for t, _ in layout.ticks] == ["0", "2", "4", "6"]
    assert chart_layout(chart, ("week", "other", "n"), rows) is None
    assert chart_layout(chart, ("week", "kind", "n"), []) is None


# --- Message log and detail ----------------------------------------------------------------


@pytest.fixture
def log(app, shops):
    with app.app_context():
        ids = {}
        ids["failed"] = add_message(
            shops,
            "a",
            status=Status.FAILED,
            kind="reminder",
            segments=2,
            attempts=3,
            price="0.01660",
            code="30003",
            reason="Unreachable destination handset",
            steps=(
                (Status.SCHEDULED, 0, "module", None),
                (Status.QUEUED, 5, "module", None),
                (Status.SENDING, 6, "module", "attempt 1"),
                (Status.SENDING, 66, "module", "attempt 2"),
                (Status.SENDING, 186, "module", "attempt 3"),
                (Status.FAILED, 190, "provider_callback", "30003 Unreachable"),
            ),
        )
        ids["stale"] = add_message(
            shops, "a", status=Status.SENT, created=T0 + timedelta(hours=1), queue=P
        )
        ids["inbound"] = add_message(
            shops,
            "a",
            status=Status.RECEIVED,
            direction="inbound",
            kind="inbound",
            created=T0 + timedelta(hours=2),
            attempts=0,
            price="0",
            sender=None,
            body="Merci",
        )
        ids["b"] = add_message(shops, "b", status=Status.DELIVERED, body="Garage B secret")
    return ids


FAILED_ROW = [
    "2025-01-05T10:00:00-05:00",
    "Client A",
    PHONES["a"],
    "outbound",
    "reminder",
    "transactional",
    "failed",
    "2",
    "3",
    "0.04980",
    "CAD",
    "30003",
    "Unreachable destination handset",
    "+14386013562",
    "Garage A",
]


def log_rows(log) -> dict[str, list[str]]:
    return {
        "inbound": [
            str(log["inbound"]),
            "2025-01-05T12:00:00-05:00",
            "Client A",
            PHONES["a"],
            "inbound",
            "inbound",
            "transactional",
            "received",
            "1",
            "0",
            "0.00000",
            "CAD",
            "",
            "",
            "",
            "Garage A",
        ],
        "stale": [
            str(log["stale"]),
            "2025-01-05T11:00:00-05:00",
            "Client A",
            PHONES["a"],
            "outbound",
            "manual",
            "promotional",
            NO_REPORT,
            "1",
            "1",
            "0.00830",
            "CAD",
            "",
            "",
            "+14386013562",
            "Garage A",
        ],
        "failed": [str(log["failed"]), *FAILED_ROW],
    }


def test_message_log_lists_the_shops_messages_newest_first(client, shops, log):
    login_en(client, shops["a"]["staff"])
    page, exported = report(client, "/reports/sms_message_log")
    expected = log_rows(log)
    assert page == exported == [expected["inbound"], expected["stale"], expected["failed"]]
    body = client.get("/reports/sms_message_log").text
    assert f'<a href="/reports/sms_message_log/{log["failed"]}">{log["failed"]}</a>' in body
    assert f"/reports/sms_message_log/{log['b']}" not in body


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=failed", ["failed"]),
        ("status=sent", ["stale"]),
        ("direction=inbound", ["inbound"]),
        ("queue=promotional", ["stale"]),
        ("phone=514 555 0101", ["inbound", "stale", "failed"]),
        ("phone=416", []),
        ("from=2025-01-06", []),
        ("to=2025-01-05&from=2025-01-05", ["inbound", "stale", "failed"]),
        ("to=2025-01-04", []),
        ("direction=outbound&queue=transactional", ["failed"]),
    ],
)
def test_message_log_filters(client, shops, log, query, expected):
    login_en(client, shops["a"]["staff"])
    page, exported = report(client, f"/reports/sms_message_log?{query}")
    rows = log_rows(log)
    assert exported == [rows[k] for k in expected]
    assert page == ([rows[k] for k in expected] or [["Nothing to show."]])


def test_message_log_ignores_unknown_filter_values_with_a_note(client, shops, log):
    login_en(client, shops["a"]["staff"])
    response = client.get(
        "/reports/sms_message_log?status=lost&direction=up&phone=abc&to=2025-02-30"
    )
    assert response.status_code == 200
    said = " ".join(notes(response))
    assert "“status” filter “lost”" in said and "“direction” filter “up”" in said
    assert "phone filter “abc” has no digit" in said and "“to” date “2025-02-30”" in said
    assert len(table(response)) == 3


def test_message_detail_shows_its_fields_and_whole_status_history(client, shops, log):
    login_en(client, shops["a"]["staff"])
    response = client.get(f"/reports/sms_message_log/{log['failed']}")
    assert response.status_code == 200
    cells = table(response, -1)
    fields = dict(re.findall(r'<th scope="row">(.*?)</th><td>(.*?)</td>', page_text(response)))
    assert fields["Status"] == "Failed"
    assert fields["Attempts"] == "3" and fields["Segments"] == "2"
    assert fields["Price per attempt"] == "0.01660" and fields["Cost"] == "0.04980"
    assert fields["Failure code"] == "30003"
    assert fields["Failure reason"] == "Unreachable destination handset"
    assert fields["Customer"] == "Client A" and fields["Shop"] == "Garage A"
    assert fields["Created"] == "2025-01-05T10:00:00-05:00"
    assert cells == [
        ["2025-01-05T10:00:00-05:00", "Scheduled", "module", ""],
        ["2025-01-05T10:00:05-05:00", "Queued", "module", ""],
        ["2025-01-05T10:00:06-05:00", "Sending", "module", "attempt 1"],
        ["2025-01-05T10:01:06-05:00", "Sending", "module", "attempt 2"],
        ["2025-01-05T10:03:06-05:00", "Sending", "module", "attempt 3"],
        ["2025-01-05T10:03:10-05:00", "Failed", "provider_callback", "30003 Unreachable"],
    ]
    stale = page_text(client.get(f"/reports/sms_message_log/{log['stale']}"))
    assert "Sent — no delivery report" in stale and "Nothing to show." in stale


def test_message_detail_of_another_shop_is_404(client, shops, log):
    login_en(client, shops["a"]["admin"])
    response = client.get(f"/reports/sms_message_log/{log['b']}")
    assert response.status_code == 404
    assert "Garage B" not in response.text and PHONES["b"] not in response.text
    assert client.get("/reports/sms_message_log/999999").status_code == 404
    # A report without details has no detail pages.
    assert client.get(f"/reports/legacy_sent_sms_log/{shops['a']['legacy']}").status_code == 404
    assert client.get(f"/reports/no_such_report/{log['failed']}").status_code == 404


def test_operator_sees_every_shops_messages_and_details(client, shops, log):
    login_en(client, OPERATOR)
    page, exported = report(client, "/reports/sms_message_log")
    assert [r[0] for r in exported] == [str(log[k]) for k in ("inbound", "stale", "b", "failed")]
    assert exported[3][1:] == [
        FAILED_ROW[0].replace("10:00:00-05:00", "15:00:00+00:00"),
        *FAILED_ROW[1:],
    ]
    assert exported[2][-1] == "Garage B"
    response = client.get(f"/reports/sms_message_log/{log['b']}")
    assert response.status_code == 200 and "Garage B secret" in response.text


# --- Segments and cost ---------------------------------------------------------------------


@pytest.fixture
def costs(app, shops):
    with app.app_context():
        add_message(shops, "a", status=Status.DELIVERED, segments=2, price="0.01660")
        add_message(shops, "a", status=Status.FAILED, segments=1, attempts=3)
        add_message(
            shops, "a", status=Status.DELIVERED, queue=P, segments=3, attempts=2, price="0.02490"
        )
        add_message(
            shops, "a", status=Status.DELIVERED, created=datetime(2025, 2, 1, 12, tzinfo=UTC)
        )
        # Never handed to the carrier (nothing charged), and a reply: not counted.
        add_message(shops, "a", status=Status.SCHEDULED, attempts=0)
        add_message(shops, "a", status=Status.RECEIVED, direction="inbound", attempts=0)
        add_message(shops, "b", status=Status.UNDELIVERED, attempts=2)
    return shops


COST_A = [
    ["2025-01", "Garage A", "promotional", "1", "2", "6", "0.04980", "CAD"],
    ["2025-01", "Garage A", "transactional", "2", "4", "5", "0.04150", "CAD"],
    ["2025-02", "Garage A", "transactional", "1", "1", "1", "0.00830", "CAD"],
]
COST_B = ["2025-01", "Garage B", "transactional", "1", "2", "2", "0.01660", "CAD"]


def test_cost_report_charges_every_attempt_by_month_shop_and_queue(client, costs):
    login_en(client, costs["a"]["staff"])
    page, exported = report(client, "/reports/sms_cost")
    assert page == exported == COST_A
    assert csv_rows(client, "/reports/sms_cost.csv")[0] == [
        "period",
        "shop",
        "queue",
        "messages",
        "attempts",
        "segments_charged",
        "cost",
        "currency",
    ]


def test_cost_report_by_day_and_dates(client, costs):
    login_en(client, costs["a"]["staff"])
    page, exported = report(client, "/reports/sms_cost?period=day&to=2025-01-31")
    assert (
        page
        == exported
        == [
            ["2025-01-05", *COST_A[0][1:]],
            ["2025-01-05", *COST_A[1][1:]],
        ]
    )
    page, exported = report(client, "/reports/sms_cost?from=2025-02-01")
    assert page == exported == COST_A[2:]
    response = client.get("/reports/sms_cost?period=week")
    assert "“period” filter “week” is not one of: day, month" in notes(response)[0]
    assert table(response) == COST_A  # the month, by default


def test_operator_cost_report_has_a_row_per_shop(client, costs):
    login_en(client, OPERATOR)
    page, exported = report(client, "/reports/sms_cost")
    assert page == exported == [COST_A[0], COST_A[1], COST_B, COST_A[2]]


# --- Delivery performance and error codes ---------------------------------------------------


@pytest.fixture
def deliveries(app, shops):
    S = Status
    with app.app_context():
        # Times to delivery: 10, 30 (from the retry that got through), 50 (from Sent: no
        # Sending step recorded), 20 (the Delivered callback overtook Sent).
        for steps, delivered_after in [
            (((S.SENDING, 0, "module", None), (S.SENT, 2, "module", None)), 10),
            (
                (
                    (S.SENDING, 0, "module", "attempt 1"),
                    (S.SENDING, 60, "module", "attempt 2"),
                    (S.SENT, 61, "module", None),
                ),
                90,
            ),
            (((S.SENT, 0, "provider_callback", None),), 50),
            (((S.SENDING, 0, "module", None),), 20),
        ]:
            add_message(
                shops,
                "a",
                status=S.DELIVERED,
                steps=(*steps, (S.DELIVERED, delivered_after, "provider_callback", None)),
            )
        add_message(
            shops,
            "a",
            status=S.UNDELIVERED,
            code="30005",
            reason="Unknown destination handset",
            steps=((S.UNDELIVERED, 30, "provider_callback", "30005"),),
        )
        add_message(
            shops,
            "a",
            status=S.FAILED,
            code="30003",
            reason="Unreachable destination handset",
            steps=((S.FAILED, 40, "provider_callback", None),),
        )
        add_message(
            shops,
            "a",
            status=S.FAILED,
            created=T0 + timedelta(hours=3),
            code="30003",
            reason="Unreachable destination handset",
            steps=((S.FAILED, 7, "provider_callback", None),),
        )
        add_message(shops, "a", status=S.FAILED, created=datetime(2025, 2, 3, 12, tzinfo=UTC))
        add_message(shops, "a", status=S.SENT, updated=utcnow())  # no outcome yet
        add_message(shops, "a", status=S.CANCELED)
        add_message(
            shops,
            "b",
            status=S.DELIVERED,
            steps=((S.SENDING, 0, "module", None), (S.DELIVERED, 1000, "provider_callback", None)),
        )
        add_message(shops, "b", status=S.FAILED, code="30007", reason="Carrier violation")
    return shops


def test_delivery_report_rates_and_times_deliveries(client, deliveries):
    login_en(client, deliveries["a"]["staff"])
    page, exported = report(client, "/reports/sms_delivery")
    # January: times 10, 30, 50, 20 s; median of 10 20 30 50 = 25, 90th percentile = 44.
    assert (
        page
        == exported
        == [
            ["2025-01", "7", "4", "1", "2", "57.1", "25.0", "44.0"],
            ["2025-02", "1", "0", "0", "1", "0.0", "", ""],
        ]
    )
    page, exported = report(client, "/reports/sms_delivery?period=day&to=2025-01-31")
    assert page == exported == [["2025-01-05", "7", "4", "1", "2", "57.1", "25.0", "44.0"]]
    page, exported = report(client, "/reports/sms_delivery?queue=promotional")
    assert exported == [] and page == [["Nothing to show."]]


def test_operator_delivery_report_counts_every_shop(client, deliveries):
    login_en(client, OPERATOR)
    _page, exported = report(client, "/reports/sms_delivery")
    # 10 20 30 50 1000: median 30, 90th percentile = 50 + 0.6 × 950.
    assert exported[0] == ["2025-01", "9", "5", "1", "3", "55.6", "30.0", "620.0"]


def test_error_codes_report_counts_failures_by_code(client, deliveries):
    login_en(client, deliveries["a"]["staff"])
    page, exported = report(client, "/reports/sms_error_codes")
    assert (
        page
        == exported
        == [
            ["30003", "2", "2025-01-05T13:00:07-05:00", "Unreachable destination handset"],
            ["30005", "1", "2025-01-05T10:00:30-05:00", "Unknown destination handset"],
            ["none", "1", "2025-02-03T07:00:00-05:00", ""],  # no history: its last change
        ]
    )
    _page, exported = report(client, "/reports/sms_error_codes?to=2025-01-31&queue=transactional")
    assert [r[0] for r in exported] == ["30003", "30005"]
    login_en(client, OPERATOR)
    _page, exported = report(client, "/reports/sms_error_codes")
    assert ["30007", "1", "2025-01-05T15:00:00+00:00", "Carrier violation"] in exported


# --- Opt-out register ----------------------------------------------------------------------


@pytest.fixture
def opt_outs(app, shops):
    def add(phone, action, company, raw, source, hours):
        db.session.add(
            OptOutEvent(
                phone=phone,
                action=action,
                company_id=shops[company]["shop"] if company else None,
                raw_message=raw,
                source=source,
                at=T0 + timedelta(hours=hours),
            )
        )

    with app.app_context():
        add(PHONES["a"], OptOutAction.OPT_OUT, "a", "STOP", "sms_keyword", 0)
        # A's customer texts START to shop B: A sees it, not B's name.
        add(PHONES["a"], OptOutAction.OPT_IN, "b", "START", "sms_keyword", 1)
        add(PHONES["a"], OptOutAction.OPT_OUT, None, None, "provider_error", 2)
        add(PHONES["b"], OptOutAction.OPT_OUT, "b", "ARRET", "sms_keyword", 3)
        add("+15145559999", OptOutAction.OPT_OUT, None, "STOPALL", "api", 4)
        db.session.commit()
    return shops


OPT_A = [
    ["2025-01-05T12:00:00-05:00", PHONES["a"], "opt_out", "provider_error", "", "platform"],
    ["2025-01-05T11:00:00-05:00", PHONES["a"], "opt_in", "sms_keyword", "START", "another shop"],
    ["2025-01-05T10:00:00-05:00", PHONES["a"], "opt_out", "sms_keyword", "STOP", "Garage A"],
]


def test_opt_out_register_shows_the_shops_events_and_its_customers_phones(client, opt_outs):
    login_en(client, opt_outs["a"]["staff"])
    page, exported = report(client, "/reports/sms_opt_out_register")
    assert page == exported == OPT_A
    body = client.get("/reports/sms_opt_out_register").text
    assert "Garage B" not in body and PHONES["b"] not in body and "9999" not in body


def test_opt_out_register_filters(client, opt_outs):
    login_en(client, opt_outs["a"]["staff"])
    _page, exported = report(client, "/reports/sms_opt_out_register?action=opt_in")
    assert exported == OPT_A[1:2]
    _page, exported = report(client, "/reports/sms_opt_out_register?from=2025-01-06")
    assert exported == []
    response = client.get("/reports/sms_opt_out_register?action=maybe")
    assert "“action” filter “maybe” is not one of: opt_out, opt_in" in notes(response)[0]
    assert table(response) == OPT_A


def test_operator_opt_out_register_shows_every_event_with_its_shop(client, opt_outs):
    login_en(client, OPERATOR)
    _page, exported = report(client, "/reports/sms_opt_out_register?phone=%2B1514555")
    assert [(r[1], r[4], r[5]) for r in exported] == [
        ("+15145559999", "STOPALL", "platform"),
        (PHONES["a"], "", "platform"),
        (PHONES["a"], "START", "Garage B"),
        (PHONES["a"], "STOP", "Garage A"),
    ]
    assert exported[0][0] == "2025-01-05T19:00:00+00:00"


# --- Every report: isolation, bad filters, bounded queries ----------------------------------


@pytest.fixture
def everything(app, statuses, log, costs, deliveries, opt_outs):
    return statuses


@pytest.mark.parametrize("who", ["admin", "staff"])
def test_a_shop_never_sees_another_shops_rows(client, everything, who, app):
    login_en(client, everything["a"][who])
    for name in NEW_REPORTS:
        for url in (f"/reports/{name}", f"/reports/{name}.csv", f"/reports/{name}?period=day"):
            response = client.get(url)
            assert response.status_code == 200, url
            body = response.get_data(as_text=True)
            assert "Garage B" not in body and PHONES["b"] not in body, url
            assert "30007" not in body and "Carrier violation" not in body, url
    with app.app_context():
        b_ids = [
            m.id for m in db.session.query(SmsMessage).filter_by(company_id=everything["b"]["shop"])
        ]
    assert b_ids
    for message_id in b_ids:
        assert client.get(f"/reports/sms_message_log/{message_id}").status_code == 404


def test_the_operator_sees_both_shops(client, everything):
    login_en(client, OPERATOR)
    body = client.get("/reports/sms_message_log.csv").text
    assert PHONES["a"] in body and PHONES["b"] in body
    cost = client.get("/reports/sms_cost.csv").text
    assert "Garage A" in cost and "Garage B" in cost


BAD_QUERIES = [
    "from=x&to=y&period=fortnight&queue=1&status=%25&direction=_&phone=%25_&action=%01",
    "from=0000-00-00&to=9999-99-99",
    "from=0001-01-01&to=9999-12-31",
    "from=2025-02-29&to=2025-01-01&phone=" + "9" * 300,
    "from=%E2%80%AE&queue=&period=",
]


@pytest.mark.parametrize("query", BAD_QUERIES)
def test_no_report_fails_on_bad_filter_values(client, everything, query):
    login_en(client, OPERATOR)
    for name in NEW_REPORTS:
        assert client.get(f"/reports/{name}?{query}").status_code == 200, name
        assert client.get(f"/reports/{name}.csv?{query}").status_code == 200, name


def count_queries(app, client, url: str) -> int:
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len(statements)


def test_reports_read_with_a_fixed_number_of_queries(app, client, shops):
    with app.app_context():
        for _ in range(2):
            add_message(shops, "a", status=Status.DELIVERED, steps=((Status.SENT, 0, "m", None),))
    login_en(client, shops["a"]["staff"])
    urls = [f"/reports/{name}" for name in NEW_REPORTS] + [
        f"/reports/{name}.csv" for name in NEW_REPORTS
    ]
    few = {url: count_queries(app, client, url) for url in urls}
    with app.app_context():
        for i in range(20):
            add_message(
                shops,
                "a",
                status=[Status.DELIVERED, Status.FAILED, Status.SENT][i % 3],
                created=T0 + timedelta(days=i),
                queue=[T, P][i % 2],
                code=str(i),
                steps=((Status.SENT, 0, "m", None), (Status.DELIVERED, 5, "m", None)),
            )
            db.session.add(
                OptOutEvent(
                    phone=PHONES["a"],
                    action=OptOutAction.OPT_OUT,
                    company_id=shops["a"]["shop"],
                    source="sms_keyword",
                    at=T0 + timedelta(days=i),
                )
            )
        db.session.commit()
    many = {url: count_queries(app, client, url) for url in urls}
    assert many == few
