"""No amplification (issue 13 point 9): per phone, keyword answers and reply forwards are
limited with Redis counters (every process shares them); the replies themselves are kept."""

from __future__ import annotations

import pytest
from rq.job import Job
from sqlalchemy import select

from host.api import Company, db
from host.redis_connection import get_redis
from plugins.sms_module.compliance import opt_out
from plugins.sms_module.conversations import answers as answers_module
from plugins.sms_module.conversations import digest, forwarding, limits
from plugins.sms_module.models import SmsStatusChange, Source
from tests.sms_module.conversations.support import (
    answers,
    forward_settings,
    inbound_messages,
    post_inbound,
    sent_to,
)
from tests.support_pipeline import in_process_app


@pytest.fixture
def app(make_app, redis_url):
    return in_process_app(make_app, SMS_FORWARDS_PER_HOUR=2)


def test_one_help_answer_per_phone_per_hour(client, app, shops):
    with app.app_context():
        ours = sent_to(shops)
    for n in range(5):
        post_inbound(
            client, app, sid=f"SMh{n}", phone=ours.phone, to=ours.sender_number, body="HELP"
        )
    with app.app_context():
        assert len(inbound_messages()) == 5  # every HELP is kept
        assert len(answers()) == 1  # one answer
        ttl = get_redis().ttl(f"sms:limit:answer:help:{ours.phone}")
        assert 3500 < ttl <= 3600  # the hour, then HELP is answered again


def _answered() -> list[str]:
    """The keyword each answer answers, in order, from its first history line."""
    return [
        db.session.scalar(
            select(SmsStatusChange.detail)
            .where(SmsStatusChange.message_id == a.id)
            .order_by(SmsStatusChange.id)
            .limit(1)
        )
        .removeprefix("keyword_answer: ")
        .lower()
        for a in answers()
    ]


def test_stop_always_opts_out_and_each_change_is_confirmed_once(client, app, shops):
    with app.app_context():
        ours = sent_to(shops)
    for n, word in enumerate(["STOP", "STOP", "START", "STOP", "START", "START"]):
        post_inbound(client, app, sid=f"SMs{n}", phone=ours.phone, to=ours.sender_number, body=word)
    with app.app_context():
        assert not opt_out.is_opted_out(ours.phone)  # the last word acted
        assert [e.action for e in opt_out.events(ours.phone)] == [
            "opt_out", "opt_out", "opt_in", "opt_out", "opt_in", "opt_in"
        ]  # fmt: skip
        # Each change of state confirmed; the repeated STOP and START (no change) are not.
        assert _answered() == ["stop", "start", "stop", "start"]
        # The last change (START) opened the START window and closed STOP's.
        assert 3500 < get_redis().ttl(f"sms:limit:answer:start:{ours.phone}") <= 3600
        assert get_redis().ttl(f"sms:limit:answer:stop:{ours.phone}") == -2
    post_inbound(client, app, sid="SMs9", phone=ours.phone, to=ours.sender_number, body="STOP")
    with app.app_context():
        assert _answered()[-1] == "stop" and len(answers()) == 5
        assert 86300 < get_redis().ttl(f"sms:limit:answer:stop:{ours.phone}") <= 86400


def test_the_reviewers_sequence_confirms_every_change_of_state(client, app, shops):
    """HELP, HELP, AIDE, STOP, START, STOP, START, arret, DEBUT from one phone (issue 13
    review): HELP once an hour (AIDE is a HELP), every STOP and START that changes the
    opt-out state confirmed (arret and DEBUT change it too); then arret, arret, DEBUT,
    DEBUT: the first of each changes the state (confirmed), the second repeats it (not)."""
    with app.app_context():
        ours = sent_to(shops)
    words = ["HELP", "HELP", "AIDE", "STOP", "START", "STOP", "START", "arret", "DEBUT"]
    words += ["arret", "arret", "DEBUT", "DEBUT"]
    for n, word in enumerate(words):
        post_inbound(client, app, sid=f"SMr{n}", phone=ours.phone, to=ours.sender_number, body=word)
    with app.app_context():
        assert _answered() == [
            "help", "stop", "start", "stop", "start", "stop", "start", "stop", "start"
        ]  # fmt: skip
        assert not opt_out.is_opted_out(ours.phone)


def test_a_stop_after_the_shop_opted_the_phone_out_is_not_confirmed_again(client, app, shops):
    with app.app_context():
        ours = sent_to(shops)
    post_inbound(client, app, sid="SMq0", phone=ours.phone, to=ours.sender_number, body="bonjour")
    with app.app_context():
        company = db.session.get(Company, shops["a"]["shop"])
        assert answers_module.opt_out_on_request(company, None, ours.phone, None) is not None
    post_inbound(client, app, sid="SMq1", phone=ours.phone, to=ours.sender_number, body="STOP")
    with app.app_context():
        assert _answered() == ["stop"]  # the shop's, only


def test_two_stops_at_once_get_one_confirmation(client, app, shops, monkeypatch):
    """Both STOPs read "not opted out" before either committed (two web processes at once):
    the one that finds the phone listed under the row's lock does not confirm again."""
    with app.app_context():
        ours = sent_to(shops)
    post_inbound(client, app, sid="SMc0", phone=ours.phone, to=ours.sender_number, body="STOP")
    # The second STOP's read came before the first one's commit.
    monkeypatch.setattr(opt_out, "is_opted_out", lambda phone: False)
    post_inbound(client, app, sid="SMc1", phone=ours.phone, to=ours.sender_number, body="STOP")
    with app.app_context():
        assert [e.action for e in opt_out.events(ours.phone)] == ["opt_out", "opt_out"]
        assert _answered() == ["stop"]


def test_opt_out_and_opt_in_tell_whether_the_list_changed(app):
    with app.app_context():
        phone = "+15145550177"
        assert opt_out.opt_in(phone, Source.STAFF) is False  # not on the list
        assert opt_out.opt_out(phone, Source.STAFF) is True
        assert opt_out.opt_out(phone, Source.STAFF) is False  # listed already
        assert opt_out.opt_in(phone, Source.STAFF) is True
        db.session.rollback()


def test_a_window_of_zero_answers_every_time(client, app, shops):
    app.config["SMS_HELP_ANSWER_SECONDS"] = 0
    with app.app_context():
        assert all(limits.may_answer("help", "+15145550101") for _ in range(3))


def test_forwards_beyond_the_hours_limit_go_in_one_digest(client, app, shops, smtp_server):
    port, inbox = smtp_server
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_FROM="sms@garage.test")
    with app.app_context():
        ours = sent_to(shops)
        forward_settings(shops["a"]["shop"], emails="desk@garage-a.test")
    for n in range(5):
        post_inbound(
            client, app, sid=f"SMf{n}", phone=ours.phone, to=ours.sender_number, body=f"r{n}"
        )
    with app.app_context():
        replies = inbound_messages()
        assert len(replies) == 5  # all kept for the reply page
        done = [forwarding.forward(m.id) for m in replies]
        assert done == ["e-mailed"] * 2 + ["held for the digest"] * 3
        assert all(m.forwarded_at is not None for m in inbound_messages())
        held = [m.id for m in replies[2:]]
        assert limits.held(shops["a"]["shop"], ours.phone) == held
        # One digest job, due at the end of the hour.
        job = Job.fetch(f"sms-forward-digest-{held[0]}", connection=get_redis())
        assert job.func_name == limits.DIGEST_FUNCTION
        assert job.args == (shops["a"]["shop"], ours.phone)
        assert job.get_status() == "scheduled"
        assert job.perform() == "e-mailed"  # run by its path, as a worker does
        assert digest.send(shops["a"]["shop"], ours.phone) == "nothing to do"
    mails = inbox.wait(3)
    assert len(mails) == 3
    text = mails[-1][1].get_payload(decode=True).decode()
    assert "3 more SMS replies" in mails[-1][1]["Subject"]
    assert all(f"r{n}" in text for n in (2, 3, 4)) and "r1" not in text
    assert "/sms/replies/" in text


def test_a_retried_forward_keeps_its_turn(app, shops):
    with app.app_context():
        turns = [limits.forward_turn(1, "+15145550101", i)[0] for i in (7, 8, 9, 7, 8, 9)]
        assert turns == [True, True, False, True, True, False]
        # Another shop, another count.
        assert limits.forward_turn(2, "+15145550101", 10)[0] is True
