"""A campaign's fan-out at scale (issue 14 point 4): set-based, a chunk of customers per
transaction whatever the audience's size, every refusal kept with its code, resumable
without duplicates, its first-contact disclaimers on the campaign's promotional queue, and
no RQ job per message (a few send jobs drain them)."""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select

from host.extensions import db
from host.models import Company, Customer
from host.redis_connection import get_queue, get_redis
from plugins.sms_module import campaigns, jobs
from plugins.sms_module.campaigns import chunks, fanout, pipeline
from plugins.sms_module.compliance import consent, opt_out
from plugins.sms_module.models import SmsCampaign, SmsMessage, Status
from plugins.sms_module.sending import outbox
from tests.sms_module.campaigns.support import add_customer, campaign_messages, new_campaign
from tests.support_pipeline import carrier
from tests.support_sms import mark_disclaimed, module_on

PHONE = "+1438555{:04d}"


def crowd(shop_id: int, count: int, start: int = 0) -> dict[str, list[int]]:
    """Add ``count`` customers of every kind the rules tell apart; return their ids by kind:
    a consenting new phone, one already disclaimed, no consent, consent withdrawn, opted
    out, and a second customer on a consenting customer's phone (languages mixed)."""
    company = db.session.get(Company, shop_id)
    found: dict[str, list[int]] = {}
    for n in range(start, start + count):
        kind = ("new", "known", "silent", "withdrawn", "stopped", "twin")[n % 6]
        phone = PHONE.format(n - 5 if kind == "twin" else n)  # the "new" one's
        spoken = ("fr", "en", None)[n % 3]
        cid = add_customer(shop_id, f"C{n}", phone, language=spoken, consent=kind != "silent")
        customer = db.session.get(Customer, cid)
        if kind == "known":
            mark_disclaimed(company, customer, phone)
        if kind == "withdrawn":
            consent.withdraw_consent(customer, None)
        if kind == "stopped":
            opt_out.opt_out(phone, "sms_keyword", None, "STOP")
        db.session.commit()
        found.setdefault(kind, []).append(cid)
    return found


def statements_of(work) -> int:
    counted = []
    listener = lambda *args: counted.append(1)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        work()
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return len(counted)


def test_a_set_based_fan_out_writes_every_customer_once_with_the_refusals_reasons(
    app, shops, monkeypatch
):
    monkeypatch.setattr(chunks, "SIZE", 5)  # a handful of chunks
    with app.app_context():
        a = shops["a"]["shop"]
        module_on(a)
        kinds = crowd(a, 24)
        cid = new_campaign(a)
        assert campaigns.prepare(cid).startswith("prepared:")
        rows = campaign_messages(cid)
        mine = [m for m in rows if m.kind == "campaign"]
        by_customer = {}
        for m in mine:
            assert m.customer_id not in by_customer, "a customer asked twice"
            by_customer[m.customer_id] = m
        # Every customer once, but a phone twice: its second customer is passed over.
        asked = {c for kind, ids in kinds.items() if kind != "twin" for c in ids}
        assert set(by_customer) == asked | {shops["a"]["customer"]}
        for kind, code in (("silent", "no_consent"), ("withdrawn", "no_consent")):
            for c in kinds[kind]:
                m = by_customer[c]
                assert (m.status, m.failure_code, m.failure_reason) == ("failed", code, code)
                assert [(h.status, h.source, h.detail) for h in m.history] == [
                    ("failed", "campaign", f"refused: {code}")
                ]
        for c in kinds["stopped"]:
            assert by_customer[c].failure_code == "opted_out"
        for c in kinds["new"] + kinds["known"]:
            m = by_customer[c]
            assert (m.status, m.queue, m.dedupe_key) == (
                "queued",
                "promotional",
                f"campaign:{cid}:{c}",
            )
            assert [(h.status, h.source) for h in m.history] == [
                ("accepted", "campaign"),
                ("scheduled", "module"),
                ("queued", "module"),
            ]
            assert m.history[1].detail == f"due: {m.send_at.isoformat()}"
            assert m.segments >= 1 and m.price == m.segments * m.price_per_segment
        # French, English, or the shop's (Quebec: French) when none is on file.
        french = by_customer[kinds["new"][0]]
        assert "Répondez ARRET" in french.body
        # One disclaimer per new phone, before its message, on the promotional queue.
        notes = [m for m in rows if m.kind == "disclaimer"]
        assert sorted(n.customer_id for n in notes) == sorted(kinds["new"])
        for note in notes:
            message = by_customer[note.customer_id]
            assert (note.queue, note.status, note.campaign_id) == ("promotional", "queued", cid)
            assert note.id < message.id and note.send_at == message.send_at
            assert note.history[0].detail == "disclaimer"
        campaign = db.session.get(SmsCampaign, cid)
        assert campaign.refused == len(kinds["silent"] + kinds["withdrawn"] + kinds["stopped"]) + 1
        # No RQ job per message: one send job waits on the promotional queue to drain them.
        assert get_redis().hlen(outbox.JOBS_KEY) == 0
        assert get_queue("promotional").count == 1


def test_its_statements_do_not_grow_with_the_audience(app, shops, monkeypatch):
    monkeypatch.setattr(chunks, "SIZE", 1000)
    with app.app_context():
        a = shops["a"]["shop"]
        module_on(a)
        crowd(a, 12)
        small = new_campaign(a)
        few = statements_of(lambda: campaigns.prepare(small))
        crowd(a, 48, start=12)
        large = new_campaign(a, name="Large")
        many = statements_of(lambda: campaigns.prepare(large))
        assert len(campaign_messages(large)) > 3 * len(campaign_messages(small))
        # Five times the customers, one chunk each: the same statements, give or take the
        # disclaimers (none for the small one's phones any more, some for the new ones).
        assert many <= few + 4, (few, many)


def shape(rows) -> list[tuple]:
    return sorted((m.kind, m.customer_id, m.phone, m.status, m.failure_code) for m in rows)


def test_an_interrupted_fan_out_resumes_without_duplicates(app, shops, monkeypatch):
    monkeypatch.setattr(chunks, "SIZE", 4)
    with app.app_context():
        a = shops["a"]["shop"]
        module_on(a)
        crowd(a, 18)
        cid = new_campaign(a)

        class Killed(Exception):
            pass

        done = []

        def killed_after_two_chunks(queue):
            done.append(queue)
            if len(done) == 2:
                raise Killed  # the worker dies between two chunks

        monkeypatch.setattr(fanout, "drain", killed_after_two_chunks)
        with pytest.raises(Killed):
            campaigns.prepare(cid)
        half = {(m.kind, m.customer_id, m.phone) for m in campaign_messages(cid)}
        assert half and db.session.get(SmsCampaign, cid).prepared_at is None

        write = pipeline.rows.write

        def killed_while_writing(*args, **kwargs):
            write(*args, **kwargs)
            raise Killed  # in the middle of a chunk: none of it is committed

        monkeypatch.setattr(pipeline.rows, "write", killed_while_writing)
        with pytest.raises(Killed):
            campaigns.prepare(cid)
        assert {(m.kind, m.customer_id, m.phone) for m in campaign_messages(cid)} == half

        monkeypatch.setattr(pipeline.rows, "write", write)
        monkeypatch.setattr(fanout, "drain", lambda queue: None)
        assert campaigns.prepare(cid).startswith("prepared:")  # run again: it resumes
        resumed = shape(campaign_messages(cid))
        keys = [m.dedupe_key for m in campaign_messages(cid) if m.kind == "campaign"]
        assert len(keys) == len(set(keys)) == 18 - 3 + 1  # shop A's own, less 3 twins
        once = new_campaign(a, name="In one go")
        db.session.execute(
            SmsMessage.__table__.update()
            .where(SmsMessage.campaign_id == cid, SmsMessage.kind == "disclaimer")
            .values(status="canceled")
        )
        db.session.commit()
        assert campaigns.prepare(once).startswith("prepared:")
        assert resumed == shape(campaign_messages(once))  # as if it had never stopped


def test_a_phone_another_process_is_disclaiming_gets_no_second_disclaimer(app, shops):
    with app.app_context():
        a = shops["a"]["shop"]
        module_on(a)
        kinds = crowd(a, 12)
        first, second = kinds["new"]
        phones = {c: db.session.get(Customer, c).mobile_phone for c in (first, second)}
        # Another process writes the first phone's disclaimer right now (its lease is held).
        get_redis().set(f"sms:disclaimer:writing:{a}:{phones[first]}", 1)
        cid = new_campaign(a)
        campaigns.prepare(cid)
        notes = {m.phone for m in campaign_messages(cid) if m.kind == "disclaimer"}
        assert notes == {phones[second]}
        # A second campaign: the second phone's disclaimer is on its way, none again.
        again = new_campaign(a, name="Again")
        campaigns.prepare(again)
        assert not [m for m in campaign_messages(again) if m.kind == "disclaimer"]
        pending = db.session.scalar(
            select(func.count())
            .select_from(SmsMessage)
            .where(SmsMessage.phone == phones[second], SmsMessage.kind == "disclaimer")
        )
        assert pending == 1


def test_a_worker_asked_to_stop_stops_the_fan_out_after_its_chunk(app, shops, monkeypatch):
    monkeypatch.setattr(chunks, "SIZE", 4)
    with app.app_context():
        a = shops["a"]["shop"]
        module_on(a)
        crowd(a, 12)
        cid = new_campaign(a)

        class Job:
            worker_name = "w1"

        monkeypatch.setattr(fanout, "get_current_job", lambda: Job())
        monkeypatch.setattr(fanout, "replaced", lambda *args: False)
        seen = []

        def stop_asked_after_the_first_chunk(queue):
            seen.append(queue)
            # RQ's warm shutdown (SIGTERM) notes the request on the worker's record.
            get_redis().hset("rq:worker:w1", "shutdown_requested_date", "now")

        monkeypatch.setattr(fanout, "drain", stop_asked_after_the_first_chunk)
        assert campaigns.prepare(cid) == "interrupted: the worker is stopping"
        # It stopped after the chunks in hand (two at once on PostgreSQL), not at the end.
        assert len(seen) <= pipeline.WRITERS < 4
        assert db.session.get(SmsCampaign, cid).prepared_at is None
        get_redis().delete("rq:worker:w1")
        monkeypatch.setattr(fanout, "drain", lambda queue: None)
        assert campaigns.prepare(cid).startswith("prepared:")  # another worker resumes it


def test_messages_without_a_job_each_are_sent_by_a_few_send_jobs(app, shops):
    with app.app_context():
        a = shops["a"]["shop"]
        module_on(a)
        crowd(a, 12)
        cid = new_campaign(a)
        campaigns.prepare(cid)
        waiting = [m for m in campaign_messages(cid) if m.status == Status.QUEUED]
        queue = get_queue("promotional")
        assert queue.count == 1 and not get_redis().hlen(outbox.JOBS_KEY)
        # The sweeper gives none of them a job of its own, and keeps one send job waiting.
        app.config["SMS_SWEEP_GRACE_SECONDS"] = 0
        jobs.sweep()
        assert queue.count == 1 and not get_redis().hlen(outbox.JOBS_KEY)
        # Each send job sends its message (and, with SMS_BATCH_SECONDS, the queue's backlog);
        # the sweeper puts the next one there once a worker took it.
        for _ in range(4 * len(waiting)):
            taken = queue.get_jobs()
            if not taken:
                break
            queue.remove(taken[0])  # a worker takes it
            taken[0].perform()
            jobs.sweep()
        assert {m.status for m in campaign_messages(cid) if m.kind == "campaign"} <= {
            Status.SENT,
            Status.FAILED,
        }
        assert carrier(app).sent_count() == len(waiting)
