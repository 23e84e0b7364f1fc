"""The daily reconciliation with the carrier (issue 15, point 3): once a UTC day, the day
before's messages are compared with the carrier's list; the operator reads the figures."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from host.extensions import db
from plugins.sms_module import jobs
from plugins.sms_module.models import SmsCarrierAudit
from plugins.sms_module.models.statuses import Status
from plugins.sms_module.sending import carrier_audit, status_fetch
from tests.sms_module.sending.carrier_double import CarrierDouble, use_double
from tests.sms_module.sending.support import FIRST, add
from tests.support_pipeline import accepted_message, in_process_app, message
from tests.support_sms import login_en

DAY = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
NEXT_NIGHT = DAY + timedelta(hours=14, minutes=30)  # 00:30 UTC the day after


@pytest.fixture
def app(make_app, redis_url):
    return in_process_app(make_app)


@pytest.fixture
def double(monkeypatch) -> CarrierDouble:
    return use_double(monkeypatch)


class Killed(BaseException):
    """A worker killed in the carrier call, after the carrier took the message."""


def audit(app, carrier: CarrierDouble):
    never_waits = status_fetch.Pacer(1000, lambda: 0.0, lambda seconds: None)
    return carrier_audit.run_due(carrier, app.config, never_waits)


def day_of_messages(shops, carrier: CarrierDouble, time_machine) -> dict:
    """Yesterday's traffic: one sent, one whose SID the carrier lacks, one whose record is
    dated the next day, one left in Sending after its worker died, one SMS sent by hand from
    our number and one received."""
    time_machine.move_to(DAY, tick=False)
    sent = accepted_message(shops, body="Votre auto est prête")
    assert jobs.send_message(sent) == "sent"
    missing = add(shops, Status.SENT, provider_sid="SM" + "f" * 32, attempt_started_at=DAY)
    left = accepted_message(shops, body="Votre facture est prête")

    def die(record):
        raise Killed

    carrier.faults = [die]
    with pytest.raises(Killed):
        jobs.send_message(left)
    by_hand = carrier.add(to="+15145550199", from_=FIRST, body="Envoyé à la main")
    carrier.add(to=FIRST, from_="+15145550199", body="Merci")  # a reply: not from our numbers
    time_machine.move_to(DAY + timedelta(hours=14, seconds=10), tick=False)  # 00:00:10 next day
    late = carrier.add(to="+15145550101", from_=FIRST, body="x")
    past_midnight = add(
        shops, Status.SENT, provider_sid=late.sid, attempt_started_at=DAY + timedelta(hours=13.99)
    )
    return {
        "sent": sent,
        "missing": missing,
        "left": left,
        "by_hand": by_hand.sid,
        "past_midnight": past_midnight,
    }


def test_the_audit_finds_a_missing_sid_and_an_unknown_carrier_message(
    app, shops, double, time_machine
):
    with app.app_context():
        day = day_of_messages(shops, double, time_machine)
        time_machine.move_to(NEXT_NIGHT, tick=False)
        row = audit(app, double)
        assert row.day == DAY.date() and row.finished_at == NEXT_NIGHT
        # Ours with a SID: sent, missing, past midnight (the one left in Sending had none).
        assert row.checked == 3
        assert row.carrier_listed == 3  # sent, left, by hand: the reply is not ours
        assert (row.missing_at_carrier, row.unknown_at_carrier, row.matched) == (1, 1, 1)
        assert json.loads(row.details) == {"missing": [day["missing"]], "unknown": [day["by_hand"]]}
        # The one left in Sending is its record's, by the rule of reconciliation.
        left = message(day["left"])
        assert left.status == Status.SENT and double.records[left.provider_sid].body.endswith(
            "facture est prête"
        )
        # Asked one by one: the missing SID and the one listed the next day, nothing else.
        assert double.calls.count("fetch") == 2
        assert double.calls.count("create") == 2


def test_the_audit_runs_once_a_day_for_the_day_before(app, shops, double, time_machine):
    with app.app_context():
        time_machine.move_to(NEXT_NIGHT, tick=False)
        assert audit(app, double).day == DAY.date()
        calls = len(double.calls)
        time_machine.move_to(NEXT_NIGHT + timedelta(hours=20), tick=False)
        assert audit(app, double) is None  # done for that day
        assert len(double.calls) == calls
        time_machine.move_to(NEXT_NIGHT + timedelta(days=1), tick=False)
        assert audit(app, double).day == DAY.date() + timedelta(days=1)


def test_an_audit_whose_worker_died_is_started_again_later(app, shops, double, time_machine):
    with app.app_context():
        time_machine.move_to(NEXT_NIGHT, tick=False)
        db.session.add(SmsCarrierAudit(day=DAY.date(), started_at=NEXT_NIGHT))
        db.session.commit()
        assert audit(app, double) is None  # another worker is on it
        time_machine.move_to(NEXT_NIGHT + carrier_audit.RESTART_AFTER, tick=False)
        assert audit(app, double).finished_at is not None


def rows(page: str, table: str) -> list[str]:
    body = page.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'data-message-id="(\d+)"', body)


def test_the_operator_reads_the_audit_and_the_flagged_messages(
    app, client, shops, double, time_machine
):
    with app.app_context():
        day_of_messages(shops, double, time_machine)
        time_machine.move_to(NEXT_NIGHT, tick=False)
        audit(app, double)
        flagged = add(
            shops,
            Status.SENDING,
            sender_number=FIRST,
            reconcile_wait_since=NEXT_NIGHT - timedelta(hours=1),
            reconcile_flagged_at=NEXT_NIGHT - timedelta(minutes=30),
        )
        add(shops, Status.SENDING, sender_number=FIRST, reconcile_wait_since=NEXT_NIGHT)
    login_en(client, "operator@example.com")
    page = client.get("/").text
    figures = re.search(r'<p id="home-carrier-audit"[^>]*>', page).group(0)
    assert 'data-missing="1"' in figures and 'data-unknown="1"' in figures
    assert "1 missing at the carrier, 1 unknown to us" in page
    assert rows(page, "home-reconcile-flagged") == [str(flagged)]  # not the one still waiting
    client.get("/language/fr")
    page = client.get("/").text
    assert "sms-home-carrier" in page
    # A shop's user sees neither.
    client.post("/logout")
    login_en(client, shops["a"]["staff"])
    assert "sms-home-carrier" not in client.get("/").text


def test_the_audit_keeps_to_the_api_rate(app, shops, double, time_machine):
    app.config["SMS_CARRIER_API_PER_SECOND"] = 2
    with app.app_context():
        day_of_messages(shops, double, time_machine)
        time_machine.move_to(NEXT_NIGHT, tick=False)
        now = [0.0]
        started: list[float] = []
        real_fetch, real_list = double.fetch, double.list_sent

        def timed_fetch(sid):
            started.append(now[0])
            return real_fetch(sid)

        def timed_list(day):
            for page in real_list(day):
                started.append(now[0])
                yield page

        double.fetch, double.list_sent = timed_fetch, timed_list
        paced = status_fetch.Pacer(2, lambda: now[0], lambda s: now.__setitem__(0, now[0] + s))
        carrier_audit.run_due(double, app.config, paced)
        assert len(started) >= 4
        assert max(sum(1 for t in started if s <= t < s + 1) for s in started) <= 2
        assert db.session.get(SmsCarrierAudit, DAY.date()).finished_at is not None
