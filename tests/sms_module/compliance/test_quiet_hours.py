"""The quiet hours: a night-time send moves to the morning, shop time, for campaigns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from host.extensions import db
from host.models import Company, Customer
from plugins.sms_module import campaigns, jobs
from plugins.sms_module.compliance import quiet_hours
from plugins.sms_module.models import SmsCampaign
from plugins.sms_module.models.statuses import Status
from plugins.sms_module.sending import outbox, service
from tests.sms_module.campaigns.support import (
    ZONE,
    add_customer,
    campaign_messages,
    new_campaign,
)
from tests.support_pipeline import carrier, in_process_app, message
from tests.support_sms import mark_disclaimed, module_on, ready_to_send

# The shop's quiet hours are the defaults, 21:00 to 8:00; each test sets the clock it needs.
DAY = datetime(2026, 12, 1, 10, 0, tzinfo=ZONE)  # a Tuesday morning
NIGHT = datetime(2026, 12, 1, 22, 30, tzinfo=ZONE)  # the same evening, in the quiet hours
MORNING = datetime(2026, 12, 2, 8, 0, tzinfo=ZONE)


@pytest.fixture
def app(make_app, redis_url, time_machine):
    """One message per send job; the clock starts on a Tuesday morning, shop time."""
    time_machine.move_to(DAY, tick=True)
    return in_process_app(
        make_app, SMS_RETRY_BASE_SECONDS=0.01, SMS_QUIET_START_HOUR=21, SMS_QUIET_END_HOUR=8
    )


def test_out_of_quiet_hours_moves_a_night_time_to_the_next_morning(app, shops):
    with app.app_context():
        app.config.update(SMS_QUIET_START_HOUR=21, SMS_QUIET_END_HOUR=8)
        shop = db.session.get(Company, shops["a"]["shop"])

        def moved(local: datetime) -> datetime:
            at = local.replace(tzinfo=ZONE).astimezone(UTC)
            return quiet_hours.next_morning(at, shop).astimezone(ZONE).replace(tzinfo=None)

        assert moved(datetime(2026, 12, 1, 22, 30)) == datetime(2026, 12, 2, 8, 0)
        assert moved(datetime(2026, 12, 2, 6, 0)) == datetime(2026, 12, 2, 8, 0)
        assert moved(datetime(2026, 12, 1, 21, 0)) == datetime(2026, 12, 2, 8, 0)
        assert moved(datetime(2026, 12, 1, 20, 59)) == datetime(2026, 12, 1, 20, 59)
        assert moved(datetime(2026, 12, 1, 8, 0)) == datetime(2026, 12, 1, 8, 0)


def test_a_fan_out_running_in_the_quiet_hours_schedules_for_the_morning(app, shops, time_machine):
    with app.app_context():
        ready_to_send(shops, "a")
        time_machine.move_to(NIGHT, tick=True)
        cid = new_campaign(shops["a"]["shop"])  # due "now", and now is the night
        campaigns.prepare(cid)
        [sent] = campaign_messages(cid)
        assert sent.send_at == MORNING.astimezone(UTC) and sent.status == Status.SCHEDULED
        campaign = db.session.get(SmsCampaign, cid)
        assert campaign.send_at == sent.send_at and campaign.requested_send_at is not None


def test_a_campaign_message_still_waiting_at_night_is_held_until_the_morning(
    app, shops, time_machine
):
    """The night comes while a large campaign is still sending: its messages wait for the
    end of the quiet hours, shop time, and go then."""
    with app.app_context():
        module_on(shops["a"]["shop"])
        late_id = add_customer(shops["a"]["shop"], "Late", "+15145550301")
        company = db.session.get(Company, shops["a"]["shop"])
        mark_disclaimed(company, db.session.get(Customer, late_id), "+15145550301")
        cid = new_campaign(shops["a"]["shop"])
        campaigns.prepare(cid)
        (late,) = [m for m in campaign_messages(cid) if m.status == Status.QUEUED]
        time_machine.move_to(NIGHT, tick=True)  # the night comes before it left
        assert jobs.send_message(late.id) == "waiting for the morning"
        held = message(late.id)
        assert held.send_at == MORNING.astimezone(UTC) and held.status == Status.QUEUED
        assert carrier(app).sent_count() == 0
        assert outbox.live_job(late.id) is not None  # its job waits for the morning
        # A transactional message goes at night as always.
        company, customer = ready_to_send(shops)
        urgent = service.request_send(company, customer=customer, body="Your car is ready")
        assert jobs.send_message(urgent.id) == "sent"
        # Morning: the held message goes.
        time_machine.move_to(MORNING + timedelta(minutes=1), tick=True)
        assert jobs.send_message(late.id) == "sent"
