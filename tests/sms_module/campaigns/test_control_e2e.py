"""A campaign canceled while a real worker process sends it (issue 11, "done when"): the
message the worker holds at the carrier leaves, every other one is Canceled and never
reaches the carrier.

A worker is another process, whose clock ``time_machine`` cannot set: this test makes
itself independent of the clock instead, by giving both processes no quiet hours (start =
end); nothing else it does depends on the time of day.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from host.extensions import db
from host.models import Company, Customer
from host.redis_connection import get_queue, get_redis
from plugins.sms_module.carriers.simulator import FREEZE_KEY, THAW_KEY, SimulatorCarrier
from plugins.sms_module.models import SmsCampaign, SmsMessage
from plugins.sms_module.models.statuses import Status
from tests.sms_module.campaigns.support import add_customer, confirm, form
from tests.support_pages import page_text
from tests.support_pipeline import in_process_app, wait_for
from tests.support_sms import login_en, mark_disclaimed, ready_to_send

NO_QUIET_HOURS = {"SMS_QUIET_START_HOUR": 0, "SMS_QUIET_END_HOUR": 0}


@pytest.fixture
def app(make_app, redis_url):
    """No quiet hours, no delivery report: whatever the hour, a campaign goes at once."""
    return in_process_app(make_app, **NO_QUIET_HOURS)


def campaign_statuses(cid: int) -> dict[int, Status]:
    db.session.expire_all()
    rows = db.session.execute(
        select(SmsMessage.id, SmsMessage.status).where(
            SmsMessage.campaign_id == cid, SmsMessage.kind == "campaign"
        )
    )
    return dict(rows.all())


def test_a_campaign_canceled_while_a_worker_sends_it(app, client, shops, workers):
    with app.app_context():
        company, _customer = ready_to_send(shops)  # its phone texted before: no disclaimer
        for n in range(3):
            cid = add_customer(company.id, f"C{n}", f"+1514555040{n}")
            customer = db.session.get(Customer, cid)
            mark_disclaimed(db.session.get(Company, company.id), customer, customer.mobile_phone)
    login_en(client, shops["a"]["admin"])
    response = client.post("/sms/campaigns/", data=form(name="Now"))
    cid = int(response.headers["Location"].rsplit("/", 1)[1])
    confirm(client, app, cid)
    pool = workers(SMS_SIMULATOR_CALLBACK_DELAY="null", **NO_QUIET_HOURS)
    with app.app_context():
        redis = get_redis()
        redis.set(FREEZE_KEY, "before")  # the worker stops at the carrier's door
        pool.start()
        held = wait_for(
            lambda: [m for m, s in campaign_statuses(cid).items() if s == Status.SENDING],
            what="the worker holding a campaign message at the carrier",
            state=lambda: campaign_statuses(cid),
        )
        assert db.session.get(SmsCampaign, cid).prepared_at is not None  # fanned out
    response = client.post(f"/sms/campaigns/{cid}/cancel")
    assert response.status_code == 303
    assert "3 message(s) will not leave" in page_text(client.get(f"/sms/campaigns/{cid}"))
    with app.app_context():
        redis.delete(FREEZE_KEY)
        redis.rpush(THAW_KEY, 1)
        wait_for(
            lambda: (
                sorted(campaign_statuses(cid).values())
                == [Status.CANCELED, Status.CANCELED, Status.CANCELED, Status.SENT]
            ),
            what="the held message Sent and the others Canceled",
            state=lambda: campaign_statuses(cid),
        )
        assert campaign_statuses(cid)[held[0]] == Status.SENT
        queue = get_queue("promotional")
        wait_for(
            lambda: queue.count == 0 and not queue.started_job_registry.get_job_ids(),
            what="the worker done with the canceled messages' jobs",
        )
        assert SimulatorCarrier.from_config(app.config).sent_count() == 1
        assert sorted(campaign_statuses(cid).values()).count(Status.CANCELED) == 3
