"""What the SMS report tests share: the shops' phones and times, storing a message with its
history, and reading a report's rows from its page and its CSV."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import event

from host.csv_export import FORMULA_STARTS
from host.extensions import db
from plugins.sms_module.models import Queue, SmsMessage, SmsStatusChange
from plugins.sms_module.models.statuses import Status
from plugins.sms_module.reports import NO_REPORT
from tests.support_pages import page_text

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
# Shop A's status report over the ``statuses`` fixture (conftest.py).
SHOP_A_STATUS = [
    ["2025-01-05", "promotional", "delivered", "1"],
    ["2025-01-05", "transactional", "delivered", "3"],
    ["2025-01-05", "transactional", "failed", "1"],
    ["2025-01-07", "transactional", "sent", "1"],
    ["2025-01-07", "transactional", NO_REPORT, "1"],
]

# How the English pages (en_CA) show the codes and values of the CSV (issue 12 points 1-2).
SHOWN = {
    "promotional": "Promotional",
    "transactional": "Transactional",
    "delivered": "Delivered",
    "undelivered": "Undelivered",
    "failed": "Failed",
    "sent": "Sent",
    "received": "Received",
    "refused": "Refused",
    "canceled": "Canceled",
    "scheduled": "Scheduled",
    NO_REPORT: "Sent — no delivery report",
    "outbound": "Sent to the customer",
    "inbound": "Received from the customer",
    "manual": "Written by staff",
    "appointment_reminder": "Appointment reminder",
    "opt_out": "Opt-out",
    "opt_in": "Opt-in",
    "sms_keyword": "Keyword texted by the customer",
    "provider_error": "Carrier's error",
    "api": "API",
    "2025-01": "January 2025",
    "2025-02": "February 2025",
    "2025-01-05": "Jan 5, 2025",
    "2025-01-06": "Jan 6, 2025",
    "2025-01-07": "Jan 7, 2025",
    "0.00830": "$0.0083",
    "0.01660": "$0.0166",
    "0.04150": "$0.0415",
    "0.04980": "$0.0498",
    "0.00000": "$0.00",
}


def shown(rows: list[list[str]], **more: str) -> list[list[str]]:
    """Return CSV rows as the English page shows them (``SHOWN``, then ``more``)."""
    labels = {**SHOWN, **more}
    return [[labels.get(cell, cell) for cell in row] for row in rows]


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
    """Return the rows of the CSV at ``url``, its header first, as a spreadsheet shows them:
    after the byte-order mark, and without the quote that keeps a formula-like cell text
    (``+1514…``; the quoting itself is tested in tests/reports/test_csv.py)."""
    response = client.get(url)
    assert response.status_code == 200, url
    assert response.mimetype == "text/csv"
    text = response.get_data().decode("utf-8-sig")
    return [
        [
            cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS) else cell
            for cell in row
        ]
        for row in csv.reader(io.StringIO(text))
    ]


def report(client, url: str) -> tuple[list[list[str]], list[list[str]]]:
    """Return the report's page rows and CSV rows (without the header)."""
    page = client.get(url)
    assert page.status_code == 200, url
    path, _, query = url.partition("?")
    exported = csv_rows(client, f"{path}.csv" + (f"?{query}" if query else ""))
    return table(page), exported[1:]


def notes(response) -> list[str]:
    """Return the notes the page shows about the filter values it ignored."""
    body = page_text(response)
    return re.findall(r'<p class="flash error" role="status">(.*?)</p>', body, re.S)


def count_queries(app, client, url: str) -> int:
    """Return how many SQL statements reading ``url`` runs."""
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
