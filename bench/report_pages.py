"""The pages and exports ``bench/reports.py`` times, for a shop's administrator or the
operator: every report of the SMS module and of the reports plugin with its filters, the
second page of the long ones, a message's detail, the reply inbox and a conversation."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from sqlalchemy import func, select

from host.extensions import db
from host.models import utcnow
from plugins.sms_module.models import Direction, SmsMessage

NEXT = re.compile(r'rel="next" href="([^"]+)"')
REPORTS = (
    "sms_status_report",
    "sms_message_log",
    "sms_cost",
    "sms_delivery",
    "sms_error_codes",
    "sms_consent_register",
    "sms_opt_out_register",
    "legacy_sent_sms_log",
)


def next_page(client, url: str) -> str:
    """The "next page" link of ``url``'s page (the page itself when there is none)."""
    found = NEXT.search(client.get(url).get_data(as_text=True))
    return html.unescape(found.group(1)) if found else url


def pages_of(shop, who: str) -> dict[str, list[tuple[str, str]]]:
    """Return the (label, url) of the pages and of the exports to time for ``who``
    ("admin" of ``shop``, or "operator": every shop; the inbox of unrouted replies)."""
    owned = SmsMessage.company_id == shop.id if who == "admin" else SmsMessage.company_id.is_(None)
    replied = db.session.scalar(
        select(SmsMessage.phone)
        .where(owned, SmsMessage.direction == Direction.INBOUND)
        .order_by(SmsMessage.id.desc())
        .limit(1)
    )
    phone = db.session.scalar(
        select(SmsMessage.phone).where(SmsMessage.company_id == shop.id).limit(1)
    )
    message_id = db.session.scalar(
        select(func.max(SmsMessage.id)).where(SmsMessage.company_id == shop.id)
    )
    today = utcnow().date()
    since, until = (today - timedelta(days=30)).isoformat(), (today - timedelta(days=1)).isoformat()
    window = f"from={since}&to={until}"
    log = "/reports/sms_message_log"
    pages = [
        ("status", "/reports/sms_status_report"),
        ("status promotional 30 days", f"/reports/sms_status_report?queue=promotional&{window}"),
        ("log", log),
        ("log page 2", f"next:{log}"),
        ("log status=failed", f"{log}?status=failed"),
        ("log status=refused", f"{log}?status=refused"),
        ("log inbound", f"{log}?direction=inbound"),
        ("log promotional", f"{log}?queue=promotional"),
        ("log phone exact", f"{log}?phone={phone}"),
        ("log phone prefix", f"{log}?phone={phone[:5]}"),
        ("log 30 days", f"{log}?{window}"),
        ("cost", "/reports/sms_cost"),
        ("cost by day", "/reports/sms_cost?period=day"),
        ("delivery", "/reports/sms_delivery"),
        ("delivery by day", "/reports/sms_delivery?period=day"),
        ("delivery transactional", "/reports/sms_delivery?queue=transactional"),
        ("error codes", "/reports/sms_error_codes"),
        ("error codes 30 days", f"/reports/sms_error_codes?{window}"),
        ("consent register", "/reports/sms_consent_register"),
        ("consent register page 2", "next:/reports/sms_consent_register"),
        ("opt-out register", "/reports/sms_opt_out_register"),
        ("opt-out register opt_in", "/reports/sms_opt_out_register?action=opt_in"),
        ("opt-out register phone", f"/reports/sms_opt_out_register?phone={phone[:8]}"),
        ("previous module's log", "/reports/legacy_sent_sms_log"),
        ("message detail", f"{log}/{message_id}"),
        ("inbox", "/sms/replies/"),
        ("inbox page 2", "/sms/replies/?page=2"),
    ]
    if replied:
        pages.append(("conversation", f"/sms/replies/{replied}"))
    if who == "operator":
        shop_only = f"shop={shop.id}"
        pages += [
            ("status of one shop", f"/reports/sms_status_report?{shop_only}"),
            ("log of one shop", f"{log}?{shop_only}"),
            ("delivery of one shop", f"/reports/sms_delivery?{shop_only}"),
        ]
    exports = [(f"{name}.csv", f"/reports/{name}.csv") for name in REPORTS]
    return {"pages": pages, "exports": exports}
