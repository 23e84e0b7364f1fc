"""A campaign's fan-out (PRODUCT.md §7, §10) through the send service on the promotional
queue: each consenting customer once, refusals kept, idempotent and crash safe."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from host.extensions import db
from host.models import Company, Customer, utcnow
from host.redis_connection import get_queue, get_redis
from plugins.sms_module import campaigns, jobs
from plugins.sms_module.compliance import opt_out, rules
from plugins.sms_module.models import Queue, SmsCampaign, SmsMessage
from plugins.sms_module.models.statuses import Status
from plugins.sms_module.sending import service
from plugins.sms_module.texts.reasons import failure_text
from tests.sms_module.campaigns.support import (
    PROMOTIONAL,
    add_customer,
    campaign_messages,
    confirm,
    count,
    footer_fr,
    form,
    new_campaign,
)
from tests.support_pages import page_text
from tests.support_pipeline import carrier, message
from tests.support_sms import login_en, module_on, ready_to_send


def test_a_campaign_reaches_each_consenting_customer_once_from_a_promotional_number(
    app, shops, audience
):
    with app.app_context():
        cid = new_campaign(shops["a"]["shop"])
        assert campaigns.prepare(cid) == "prepared: 4 recipient(s), 2 refused"
        rows = campaign_messages(cid)
        by_customer = {m.customer_id: m for m in rows if m.kind == "campaign"}
        assert sorted(by_customer) == sorted(
            audience[k] for k in ("new", "known", "no_consent", "stopped")
        )
        # Each customer once (no phone, no message; shop B none), and the disclaimer the new
        # phone gets first, which is the campaign's too (its cost, its cancel).
        assert len([m for m in rows if m.kind == "campaign"]) == 4
        sent_to = [by_customer[audience["new"]], by_customer[audience["known"]]]
        for m in sent_to:
            assert (m.queue, m.kind, m.status) == (Queue.PROMOTIONAL, "campaign", Status.QUEUED)
            assert m.dedupe_key == f"campaign:{cid}:{m.customer_id}"
            # Shop A is in Quebec: its customers with no language on file read French, and
            # the message names the shop and says how to unsubscribe, in French.
            assert m.body == "Winter tires: 10% off this week" + footer_fr()
            assert m.created_by_id is None and m.history[0].source == "campaign"
        assert not db.session.scalar(
            select(func.count())
            .select_from(SmsMessage)
            .where(SmsMessage.company_id == shops["b"]["shop"], SmsMessage.kind == "campaign")
        )

        # The new phone gets the disclaimer first, on the campaign's promotional queue: it
        # travels with the campaign, never on the transactional numbers (issue 14).
        new = [m for m in rows if m.customer_id == audience["new"] and m.kind == "campaign"][0]
        first = db.session.scalar(
            select(SmsMessage).where(SmsMessage.phone == new.phone, SmsMessage.kind == "disclaimer")
        )
        assert first.queue == Queue.PROMOTIONAL and first.id < new.id
        assert first.campaign_id == cid
        assert [m.id for m in rows if m.kind == "disclaimer"] == [first.id]
        assert jobs.send_message(new.id) == "waiting for the disclaimer"
        assert jobs.send_message(first.id) == "sent"
        assert message(first.id).sender_number in PROMOTIONAL
        assert jobs.send_message(new.id) == "sent"
        assert message(new.id).sender_number in PROMOTIONAL
        known = by_customer[audience["known"]]
        assert jobs.send_message(known.id) == "sent"
        assert message(known.id).sender_number in PROMOTIONAL
        assert carrier(app).sent_count() == 3  # the disclaimer and two campaign messages

        campaign = db.session.get(SmsCampaign, cid)
        assert (campaign.recipients, campaign.refused) == (4, 2)
        assert campaign.prepared_at is not None


def test_refused_customers_are_counted_and_kept_failed_with_their_reason(app, shops, audience):
    with app.app_context():
        cid = new_campaign(shops["a"]["shop"])
        campaigns.prepare(cid)
        by_customer = {m.customer_id: m for m in campaign_messages(cid) if m.kind == "campaign"}
        silent = by_customer[audience["no_consent"]]
        stopped = by_customer[audience["stopped"]]
        assert (silent.status, silent.failure_code) == (Status.FAILED, "no_consent")
        assert (stopped.status, stopped.failure_code) == (Status.FAILED, "opted_out")
        # The reason is stored as its code and read in the reader's language (issue 12).
        assert (silent.failure_reason, stopped.failure_reason) == ("no_consent", "opted_out")
        with app.test_request_context():
            assert "No express consent" in failure_text("no_consent", silent.failure_reason)
            assert "STOP" in failure_text("opted_out", stopped.failure_reason)
        assert silent.queue == Queue.PROMOTIONAL and silent.kind == "campaign"
        counts = campaigns.outcomes([cid])[cid].counts
        assert counts["refused"] == 2 and counts["waiting"] == 2 and counts["failed"] == 0
    client = app.test_client()
    login_en(client, shops["a"]["admin"])
    page = page_text(client.get(f"/sms/campaigns/{cid}"))
    assert "2 refused when prepared" in page and "replied STOP" in page
    assert "No express consent" in page and "Silent Test" in page


def test_running_the_fan_out_twice_sends_nobody_twice(app, shops, audience):
    with app.app_context():
        cid = new_campaign(shops["a"]["shop"])
        campaigns.prepare(cid)
        first = [(m.id, m.customer_id, m.status) for m in campaign_messages(cid)]
        total = count(SmsMessage)
        assert campaigns.prepare(cid) == "nothing to do"  # prepared: the job is done
        # A retried job (the worker died before prepared_at was committed) runs it again.
        db.session.execute(update(SmsCampaign).values(prepared_at=None))
        db.session.commit()
        assert campaigns.prepare(cid) == "prepared: 4 recipient(s), 2 refused"
        assert [(m.id, m.customer_id, m.status) for m in campaign_messages(cid)] == first
        assert count(SmsMessage) == total  # no new refusal, no new disclaimer either
        # Two workers at once: the second finds the first's lease and leaves.
        db.session.execute(update(SmsCampaign).values(prepared_at=None))
        db.session.commit()
        get_redis().set(campaigns.lease_key(cid), 1)
        assert campaigns.prepare(cid) == "another worker holds it"
        get_redis().delete(campaigns.lease_key(cid))
        # And the send service itself answers a repeated key with the message it has.
        company = db.session.get(Company, shops["a"]["shop"])
        customer = db.session.get(Customer, audience["known"])
        again = service.request_send(
            company,
            customer=customer,
            body="other",
            queue="promotional",
            campaign_id=cid,
            kind="campaign",
            dedupe_key=campaigns.dedupe_key(cid, customer.id),
        )
        assert again.id in {m[0] for m in first} and count(SmsMessage) == total
        ids = db.session.scalars(select(SmsMessage.id).order_by(SmsMessage.id)).all()
        outcomes = [jobs.send_message(mid) for mid in ids + ids]
        assert outcomes.count("sent") == 3
        # The disclaimer first, then each of the two consenting customers once.
        assert carrier(app).sent_count() == 3


def test_a_shared_phone_gets_the_campaign_once(app, shops, audience):
    with app.app_context():
        twin = add_customer(shops["a"]["shop"], "Twin", "+15145550201")  # "known"'s phone
        cid = new_campaign(shops["a"]["shop"])
        campaigns.prepare(cid)
        customers = {m.customer_id for m in campaign_messages(cid) if m.kind == "campaign"}
        assert audience["known"] in customers and twin not in customers


def test_a_module_switched_off_before_the_fan_out_stops_it_once(app, client, shops):
    with app.app_context():
        ready_to_send(shops)
        cid = new_campaign(shops["a"]["shop"])
        module_on(shops["a"]["shop"], enabled=False)
        assert campaigns.prepare(cid) == "stopped: module_off"
        assert campaign_messages(cid) == []  # not one Failed message per customer
        off = rules.module_off_message()
    login_en(client, shops["a"]["admin"])
    page = page_text(client.get(f"/sms/campaigns/{cid}"))
    assert page.count(off) == 2  # the page's notice and the campaign's own


def test_the_sweep_reenqueues_a_campaign_redis_lost_and_no_other(app, client, shops):
    with app.app_context():
        ready_to_send(shops)
    login_en(client, shops["a"]["admin"])
    for name in ("Lost", "Done", "Draft"):
        assert client.post("/sms/campaigns/", data=form(name=name)).status_code == 303
    with app.app_context():
        lost, done, draft = (
            db.session.scalar(select(SmsCampaign.id).where(SmsCampaign.name == n))
            for n in ("Lost", "Done", "Draft")
        )
    confirm(client, app, lost)
    confirm(client, app, done)
    with app.app_context():
        campaigns.prepare(done)
        queue = get_queue("campaigns")  # the fan-outs' own queue
        assert campaigns.sweep_unprepared(0) == 0  # its job is waiting on the queue
        get_redis().flushdb()  # Redis loses everything
        assert campaigns.sweep_unprepared(3600) == 0  # too recent: its enqueue may be coming
        jobs.sweep()  # the workers' periodic sweeper: nothing older than its grace yet
        assert queue.count == 0
        an_hour_ago = utcnow() - timedelta(hours=1)
        db.session.execute(
            update(SmsCampaign).values(created_at=an_hour_ago, confirmed_at=an_hour_ago)
        )
        db.session.execute(
            update(SmsCampaign).where(SmsCampaign.id == draft).values(confirmed_at=None)
        )
        db.session.commit()
        jobs.sweep()
        [job] = queue.get_jobs()  # the draft has no fan-out to put back
        assert job.args == (lost,) and job.origin == "campaigns"
        assert campaigns.sweep_unprepared(0) == 0  # queued again: not twice
        assert job.perform().startswith("prepared")
        get_redis().flushdb()
        assert campaigns.sweep_unprepared(0) == 0  # both prepared: nothing to do
        assert queue.count == 0
        assert campaigns.prepare(draft) == "not confirmed" and not campaign_messages(draft)


def test_a_fan_out_killed_mid_way_is_taken_over(app, shops, audience):
    with app.app_context():
        cid = new_campaign(shops["a"]["shop"])
        campaigns.enqueue(cid)
        [job] = get_queue("campaigns").get_jobs()
        job.set_status("started")  # a worker took it, then died without its lease
        assert campaigns.job_of(cid) is None
        assert campaigns.sweep_unprepared(0) == 1
        assert campaigns.job_of(cid) is not None


def test_the_promotional_queue_still_refuses_a_non_campaign_send(app, shops):
    with app.app_context():
        company, customer = ready_to_send(shops)
        with pytest.raises(service.SendRefused) as refused:
            service.request_send(company, customer=customer, body="Sale", queue="promotional")
        assert refused.value.code == "promotional_needs_campaign"
        # A malformed request (the wrong queue) is an error, not a refusal: no row.
        assert refused.value.message_id is None and count(SmsMessage) == 1  # the disclaimer
        # With a campaign it goes, and the message knows its campaign.
        cid = new_campaign(company.id)
        sent = service.request_send(
            company, customer=customer, body="Sale", queue="promotional", campaign_id=cid
        )
        assert sent.campaign_id == cid and sent.queue == Queue.PROMOTIONAL
        # A refusal keeps its campaign too.
        opt_out.opt_out(customer.mobile_phone, "staff")
        db.session.commit()
        with pytest.raises(service.SendRefused) as refused:
            service.request_send(
                company, customer=customer, body="Sale", queue="promotional", campaign_id=cid
            )
        assert db.session.get(SmsMessage, refused.value.message_id).campaign_id == cid
