"""What the report-at-scale tests share: many messages stored in one statement (a bulk
insert, as a campaign's fan-out or a seed writes them), the summary rows read back, and
the rows of every page of a report, following its "next page" links."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, insert, select, union_all

from host.extensions import db
from plugins.sms_module.models import SmsMessage
from plugins.sms_module.models.report_tables import KEY, SUMS, SmsReportDay, SmsReportDelta
from plugins.sms_module.models.statuses import Status
from tests.sms_module.reports.support import PHONES, T0, T, table

NEXT = re.compile(r'rel="next" href="([^"]+)"')


def many_messages(shops, key: str, count: int, **values) -> None:
    """Store ``count`` outbound messages of shop ``key`` in one statement, three a second
    from T0 (so that some share their time), each with ``values`` (a value may be a
    function of the message's number)."""
    rows = []
    for n in range(count):
        row = {
            "company_id": shops[key]["shop"],
            "customer_id": shops[key]["customer"],
            "direction": "outbound",
            "kind": "manual",
            "phone": PHONES[key],
            "body": f"Message {n}",
            "queue": T,
            "status": Status.DELIVERED,
            "segments": 1,
            "attempts": 1,
            "price": Decimal("0.00830"),
            "currency": "CAD",
            "created_at": T0 + timedelta(seconds=n // 3),
            "updated_at": T0 + timedelta(seconds=n // 3),
        }
        row.update({k: v(n) if callable(v) else v for k, v in values.items()})
        rows.append(row)
    db.session.execute(insert(SmsMessage), rows)
    db.session.commit()


def newest_first_ids(company_id: int | None = None, *conditions) -> list[int]:
    """The ids of the messages, newest first (the message log's order)."""
    query = select(SmsMessage.id).where(*conditions)
    if company_id is not None:
        query = query.where(SmsMessage.company_id == company_id)
    return list(
        db.session.scalars(query.order_by(SmsMessage.created_at.desc(), SmsMessage.id.desc()))
    )


def every_page(client, url: str) -> tuple[list[list[str]], int]:
    """Return the rows of every page of a report from ``url`` on, following the "next page"
    links, and how many pages there were."""
    rows, pages = [], 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, url
        pages += 1
        rows += [r for r in table(response) if r != ["Nothing to show."]]
        found = NEXT.search(response.get_data(as_text=True))
        url = html.unescape(found.group(1)) if found else None
    return rows, pages


def summary() -> dict[tuple, tuple]:
    """Every summary key with its figures, the day rows and the deltas added together
    (what a report reads), leaving out the keys that count nothing."""
    columns = [*KEY, *SUMS, "low", "high", "last_at", "reason"]
    both = union_all(
        *(select(*(getattr(t, c) for c in columns)) for t in (SmsReportDay, SmsReportDelta))
    ).subquery()
    keys = [getattr(both.c, k) for k in KEY]
    rows = db.session.execute(
        select(
            *keys,
            *(func.sum(getattr(both.c, s)) for s in SUMS),
            func.min(both.c.low),
            func.max(both.c.high),
            func.max(both.c.last_at),
            func.max(both.c.reason),
        ).group_by(*keys)
    ).all()
    found = {}
    for row in rows:
        sums = tuple(round(float(v or 0), 5) for v in row[len(KEY) : len(KEY) + len(SUMS)])
        low, high, last_at, reason = row[len(KEY) + len(SUMS) :]
        if any(sums) or low is not None:
            rounded = (
                None if low is None else round(low, 3),
                None if high is None else round(high, 3),
            )
            found[tuple(str(k) for k in row[: len(KEY)])] = (*sums, *rounded, last_at, reason)
    return found
