"""A campaign a shop can stop (issue 11): nothing goes before its confirmation; a cancel
until the last message has left makes what has not left Canceled, even while the fan-out
runs; an edit before the send time returns it to draft, and an edit while it sends rewrites
the messages that have not left."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from rq.job import Job

from host.extensions import db
from host.models import utcnow
from host.redis_connection import get_queue, get_redis
from plugins.sms_module import campaigns, jobs
from plugins.sms_module.campaigns import chunks, pipeline
from plugins.sms_module.carriers.simulator import PREFIX as SIMULATOR_PREFIX
from plugins.sms_module.models import SmsCampaign, Status
from plugins.sms_module.models.campaigns import CampaignStatus
from tests.sms_module.campaigns.support import (
    add_customer,
    campaign_messages,
    cancel_after_the_first_chunk,
    footer_fr,
    new_campaign,
)
from tests.support_pipeline import carrier, message
from tests.support_sms import module_on


def campaign(cid: int) -> SmsCampaign:
    db.session.expire_all()
    return db.session.get(SmsCampaign, cid)


def outcome(cid: int):
    return campaigns.outcomes([cid])[cid]


def by_kind(cid: int, kind: str = "campaign") -> list:
    return [m for m in campaign_messages(cid) if m.kind == kind]


def test_a_draft_sends_nothing_and_its_confirmation_waits_for_the_send_time(app, shops, audience):
    with app.app_context():
        tomorrow = utcnow() + timedelta(days=1)
        cid = new_campaign(shops["a"]["shop"], status=CampaignStatus.DRAFT)
        campaign(cid).send_at = tomorrow
        db.session.commit()
        assert campaigns.prepare(cid) == "not confirmed" and campaign_messages(cid) == []
        draft = campaign(cid)
        with pytest.raises(campaigns.NotAllowed, match="changed since this page was shown"):
            campaigns.confirm(draft, None, "not what was shown")
        campaigns.confirm(draft, None, campaigns.fingerprint(draft))
        confirmed = campaign(cid)
        assert confirmed.status == CampaignStatus.CONFIRMED and confirmed.confirmed_at
        queue = get_queue("campaigns")
        assert queue.count == 0  # its fan-out waits for tomorrow, scheduled
        [job_id] = queue.scheduled_job_registry.get_job_ids()
        assert campaigns.job_of(cid).id == job_id
        with pytest.raises(campaigns.NotAllowed, match="not a draft any more"):
            campaigns.confirm(confirmed, None, campaigns.fingerprint(confirmed))


def test_a_cancel_before_the_send_time_sends_nothing(app, shops, audience):
    with app.app_context():
        cid = new_campaign(shops["a"]["shop"])
        assert campaigns.cancel(campaign(cid), outcome(cid), None) == (0, 0)
        assert campaign(cid).status == CampaignStatus.CANCELED and campaign(cid).canceled_at
        assert campaigns.prepare(cid) == "canceled" and campaign_messages(cid) == []
        with pytest.raises(campaigns.NotAllowed, match="canceled already"):
            campaigns.cancel(campaign(cid), outcome(cid), None)


def test_a_cancel_while_sending_cancels_what_has_not_left_and_leaves_what_left(
    app, shops, audience
):
    with app.app_context():
        cid = new_campaign(shops["a"]["shop"])
        campaigns.prepare(cid)
        mine = {m.customer_id: m.id for m in by_kind(cid)}
        [note] = [m.id for m in by_kind(cid, "disclaimer")]  # the new phone's, Queued
        assert jobs.send_message(mine[audience["known"]]) == "sent"
        # Two waiting (the new phone's message and its disclaimer) become Canceled: counted
        # apart, the campaign's message and the disclaimer that was to precede it.
        assert campaigns.cancel(campaign(cid), outcome(cid), None) == (1, 1)
        assert message(mine[audience["new"]]).status == Status.CANCELED
        assert message(note).status == Status.CANCELED
        # Stored as its code, read in the reader's language (issue 12 point 1).
        assert message(mine[audience["new"]]).history[-1].detail == "campaign_canceled"
        assert message(mine[audience["known"]]).status == Status.SENT  # it had left
        assert message(mine[audience["stopped"]]).status == Status.FAILED  # refused, kept
        # Their jobs, still in Redis, send nothing.
        assert jobs.send_message(mine[audience["new"]]) == "nothing to do"
        assert jobs.send_message(note) == "nothing to do"
        assert carrier(app).sent_count() == 1
        counts = outcome(cid).counts
        assert (counts["canceled"], counts["sent"], counts["refused"]) == (1, 1, 2)


def test_a_cancel_while_the_fan_out_runs_stops_it(app, shops, monkeypatch):
    """The shop cancels from another process while the fan-out is between two chunks: the
    fan-out writes no chunk after it, and what it wrote before is Canceled."""
    with app.app_context():
        a = shops["a"]["shop"]
        module_on(a)
        ids = [add_customer(a, f"C{n}", f"+1514555030{n}") for n in range(5)]
        cid = new_campaign(a)
    monkeypatch.setattr(chunks, "SIZE", 3)  # shop A's own customer, C0, C1; then the rest
    # One writer: with PostgreSQL's two, the next chunk may commit while the cancel is being
    # made, before it, and "no chunk after the cancel" could not be told from that.
    monkeypatch.setattr(pipeline, "WRITERS", 1)

    def cancel_elsewhere():
        with app.app_context():
            found = db.session.get(SmsCampaign, cid)
            campaigns.cancel(found, campaigns.outcomes([cid])[cid], None)
            db.session.remove()

    # The first chunk is committed: the shop's cancel goes through.
    chunks_done = cancel_after_the_first_chunk(monkeypatch, cancel_elsewhere)
    with app.app_context():
        assert campaigns.prepare(cid) == "canceled"
        assert len(chunks_done) == 1  # no chunk after the cancel
        asked = {m.customer_id for m in by_kind(cid)}
        assert asked == {shops["a"]["customer"], *ids[:2]}
        # Shop A's own customer, first by id, was refused (no consent): its row is kept.
        written = [m for m in campaign_messages(cid) if m.status != Status.FAILED]
        assert len(by_kind(cid)) == 3 and len(by_kind(cid, "disclaimer")) == 2
        assert {m.status for m in written} == {Status.CANCELED} and len(written) == 4
        for m in written:
            assert jobs.send_message(m.id) == "nothing to do"
        assert carrier(app).sent_count() == 0
        assert campaigns.sweep_unprepared(0) == 0  # a canceled campaign is not taken up again


def test_an_edit_before_the_send_time_returns_it_to_draft_and_replaces_its_job(
    app, shops, audience
):
    with app.app_context():
        cid = new_campaign(shops["a"]["shop"], status=CampaignStatus.DRAFT)
        later = utcnow() + timedelta(hours=3)
        campaign(cid).send_at = later
        db.session.commit()
        campaigns.confirm(campaign(cid), None, campaigns.fingerprint(campaign(cid)))
        first = campaigns.job_of(cid)
        campaigns.redraft(campaign(cid), {"body": "Winter tires: 20% off", "send_at": later})
        assert campaign(cid).status == CampaignStatus.DRAFT and campaign(cid).confirmed_at is None
        assert first.perform() == "not confirmed"  # its old job finds a draft
        campaigns.confirm(campaign(cid), None, campaigns.fingerprint(campaign(cid)))
        second = campaigns.job_of(cid)
        assert second.id != first.id
        assert Job.fetch(first.id, connection=get_redis()).perform() == "replaced by a newer job"
        assert second.perform() == "prepared: 4 recipient(s), 2 refused"
        assert {m.body for m in by_kind(cid) if m.status != Status.FAILED} == {
            "Winter tires: 20% off" + footer_fr()
        }


def test_an_edit_while_sending_rewrites_the_messages_that_have_not_left(app, shops, audience):
    with app.app_context():
        cid = new_campaign(shops["a"]["shop"])
        campaigns.prepare(cid)
        mine = {m.customer_id: m.id for m in by_kind(cid)}
        assert jobs.send_message(mine[audience["known"]]) == "sent"
        with pytest.raises(campaigns.NotAllowed):
            campaigns.redraft(campaign(cid), {"body": "too late for the time"})
        longer = "Winter tires: 20% off this week only, installation included, " * 2
        assert campaigns.edit_text(campaign(cid), outcome(cid), "Winter", longer, None) == 1
        rewritten = message(mine[audience["new"]])
        assert rewritten.body == longer.rstrip() + footer_fr()
        assert (rewritten.segments, rewritten.price) == (2, Decimal("0.02"))
        assert rewritten.history[-1].detail == "text_edited"
        assert message(mine[audience["known"]]).body.startswith("Winter tires: 10% off")
        for m in campaign_messages(cid):
            jobs.send_message(m.id)
        sid = message(mine[audience["new"]]).provider_sid
        body = get_redis().hget(f"{SIMULATOR_PREFIX}:msg:{sid}", "body").decode()
        assert body == longer.rstrip() + footer_fr()  # what the carrier was handed


def test_nothing_changes_once_every_message_has_left(app, shops, audience):
    with app.app_context():
        cid = new_campaign(shops["a"]["shop"])
        campaigns.prepare(cid)
        for m in campaign_messages(cid):
            jobs.send_message(m.id)
        assert campaigns.finished(campaign(cid), outcome(cid))
        assert campaigns.stage(campaign(cid), outcome(cid)) == "done"
        with pytest.raises(campaigns.NotAllowed, match="nothing to stop"):
            campaigns.cancel(campaign(cid), outcome(cid), None)
        with pytest.raises(campaigns.NotAllowed, match="cannot change"):
            campaigns.edit_text(campaign(cid), outcome(cid), "Winter", "New", None)
        assert campaign(cid).status == CampaignStatus.SENDING
