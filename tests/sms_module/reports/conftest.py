"""The messages and opt-out events the SMS report tests read, one fixture per report family;
``everything`` stores them all at once, for the tests that cover every report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from host.extensions import db
from host.models import utcnow
from plugins.sms_module.models import OptOutAction, OptOutEvent
from plugins.sms_module.models.statuses import Status
from tests.sms_module.reports.support import PHONES, T0, P, add_message


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


@pytest.fixture
def log(app, shops):
    with app.app_context():
        ids = {}
        ids["failed"] = add_message(
            shops,
            "a",
            status=Status.FAILED,
            kind="appointment_reminder",
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


@pytest.fixture
def everything(app, statuses, log, costs, deliveries, opt_outs):
    return statuses
