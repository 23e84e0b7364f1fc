"""The report summaries the database keeps (``models.report_tables``, issue 14 point 2):
whatever writes the messages (the status moves, a bulk insert), the summary rows and the
inbox's order are what counting every message again gives; folding the deltas changes no
figure; a shop that moves to another time zone has its days counted again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from host.extensions import db
from host.models import Company
from plugins.sms_module.models import Direction, SmsMessage, lifecycle
from plugins.sms_module.models.report_rebuild import compact, rebuild_summaries
from plugins.sms_module.models.report_tables import SmsReportConversation, SmsReportDelta
from plugins.sms_module.models.statuses import Status
from plugins.sms_module.views.inbox import said
from tests.reports_scale.support import many_messages, summary
from tests.sms_module.reports.support import PHONES, P, T, csv_rows
from tests.support_sms import login_en

S = Status


def _message(shops, key: str | None, n: int, **values) -> SmsMessage:
    message = SmsMessage(
        company_id=shops[key]["shop"] if key else None,
        customer_id=shops[key]["customer"] if key else None,
        phone=values.pop("phone", PHONES[key or "a"]),
        body=f"Message {n}",
        queue=P if n % 3 == 0 else T,
        segments=1 + n % 2,
        price=Decimal("0.00830") * (1 + n % 2),
        currency="CAD",
        **values,
    )
    db.session.add(message)
    return message


def _sent(message: SmsMessage, attempts: int = 1) -> None:
    for _ in range(attempts):
        message.attempts += 1
        if message.status != S.SENDING:
            lifecycle.move(message, S.SENDING, "module")
        else:
            lifecycle.note(message, S.SENDING, "module", "attempt")
        db.session.commit()


def traffic(shops) -> None:
    """Messages of both shops through every path of their lives, committed step by step as
    the workers and the carrier's callbacks do, and replies, routed or not."""
    for n in range(18):
        key = "ab"[n % 2]
        message = _message(shops, key, n)
        path = n % 6
        if path == 3:
            lifecycle.refused(message, "no_consent", None, "module")
            db.session.commit()
            continue
        lifecycle.start(message, S.SCHEDULED, "module")
        db.session.commit()
        if path == 4:
            lifecycle.withdraw(message, "staff", "canceled_by_staff: test")
            db.session.commit()
            continue
        lifecycle.move(message, S.QUEUED, "module")
        db.session.commit()
        _sent(message, attempts=2 if path == 5 else 1)
        if path == 2:
            lifecycle.fail(message, "30008", None, "provider_callback")
        else:
            lifecycle.move(message, S.SENT, "module")
        db.session.commit()
        if path == 0:
            lifecycle.move(message, S.DELIVERED, "provider_callback")
            if n == 0:  # the carrier's retried final report: a second Delivered line
                db.session.commit()
                lifecycle.note(message, S.DELIVERED, "provider_callback", "repeated")
        elif path == 1:
            lifecycle.fail(message, "30003", None, "provider_callback", status=S.UNDELIVERED)
        db.session.commit()
    for key in ("a", "b", None):
        reply = _message(shops, key, 99, direction=Direction.INBOUND, kind="inbound")
        lifecycle.start(reply, S.RECEIVED, "provider_callback")
        db.session.commit()


def test_the_summaries_are_what_counting_the_messages_again_gives(app, shops):
    with app.app_context():
        traffic(shops)
        many_messages(shops, "a", 40, status=lambda n: [S.DELIVERED, S.FAILED][n % 2])
        kept = summary()
        assert db.session.scalar(select(func.count()).select_from(SmsReportDelta)) > 0
        compact(db.session)
        assert db.session.scalar(select(func.count()).select_from(SmsReportDelta)) == 0
        assert summary() == kept  # folding the deltas changes no figure
        rebuild_summaries(db.session)
        db.session.commit()
        assert summary() == kept  # the triggers kept what a recount gives
        statuses = {k[5] for k in kept if k[0] == "1"}
    assert {"delivered", "undelivered", "failed", "refused", "canceled", "sent"} <= statuses


def inbox_order(owner_company: int | None) -> list[str]:
    """The inbox's order counted from every message (what the inbox did before)."""
    owned = (
        SmsMessage.company_id.is_(None)
        if owner_company is None
        else SmsMessage.company_id == owner_company
    )
    replied = select(SmsMessage.phone).where(owned, SmsMessage.direction == Direction.INBOUND)
    last = func.max(SmsMessage.id)
    rows = db.session.execute(
        select(SmsMessage.phone)
        .where(owned, SmsMessage.phone.in_(replied), said())
        .group_by(SmsMessage.phone)
        .order_by(last.desc())
    )
    return list(rows.scalars())


def kept_order(owner: int) -> list[str]:
    c = SmsReportConversation
    return list(
        db.session.scalars(select(c.phone).where(c.owner == owner).order_by(c.last_id.desc()))
    )


def test_the_inbox_order_follows_what_each_conversation_said(app, shops):
    x, y, z = "+15145550111", "+15145550122", "+15145550133"
    with app.app_context():
        a = shops["a"]["shop"]

        def say(phone, direction=Direction.OUTBOUND, status=S.SCHEDULED, key="a"):
            message = _message(shops, key, 1, phone=phone, direction=direction)
            lifecycle.start(message, status, "module")
            db.session.commit()
            return message

        say(x, Direction.INBOUND, S.RECEIVED)
        say(y)  # no reply yet: not in the inbox
        say(y, Direction.INBOUND, S.RECEIVED)
        say(z, Direction.INBOUND, S.RECEIVED, key=None)  # no shop's: the operator's
        say(x)
        assert kept_order(a) == inbox_order(a) == [x, y]
        late = say(y)  # y moves up, then its message is canceled: back to its reply
        assert kept_order(a)[0] == y
        lifecycle.withdraw(late, "staff", "canceled_by_staff: test")
        db.session.commit()
        refusal = _message(shops, "a", 2, phone=y)
        lifecycle.refused(refusal, "opted_out", None, "module")  # never said
        db.session.commit()
        assert kept_order(a) == inbox_order(a) == [x, y]
        assert kept_order(0) == inbox_order(None) == [z]
        rebuild_summaries(db.session)
        db.session.commit()
        assert kept_order(a) == [x, y] and kept_order(0) == [z]


def test_a_shop_that_moves_has_its_days_counted_again_in_its_zone(app, client, shops):
    # 06:00 UTC on the 6th: the 6th in Quebec (01:00), still the 5th in Vancouver (22:00).
    moment = datetime(2025, 1, 6, 6, tzinfo=UTC)
    with app.app_context():
        many_messages(shops, "a", 1, created_at=moment, updated_at=moment)
    login_en(client, shops["a"]["admin"])
    assert [r[0] for r in csv_rows(client, "/reports/sms_status_report.csv")[1:]] == ["2025-01-06"]
    with app.app_context():
        db.session.get(Company, shops["a"]["shop"]).province = "BC"
        db.session.commit()
    assert [r[0] for r in csv_rows(client, "/reports/sms_status_report.csv")[1:]] == ["2025-01-05"]
    with app.app_context():  # and the messages that follow count in the new zone
        many_messages(shops, "a", 1, created_at=moment + timedelta(days=1))
    assert [r[0] for r in csv_rows(client, "/reports/sms_status_report.csv")[1:]] == [
        "2025-01-05",
        "2025-01-06",
    ]
