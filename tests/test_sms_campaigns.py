"""SMS campaigns (PRODUCT.md §7, §10): the fan-out through the send service on the
promotional queue, its idempotence and crash safety, the quiet hours, and the pages."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, func, select, update

from host.extensions import db
from host.models import Company, Customer, utcnow
from host.redis_connection import get_queue, get_redis
from plugins.sms_module import campaigns, jobs
from plugins.sms_module.carriers.simulator import SimulatorCarrier
from plugins.sms_module.compliance import opt_out, quiet_hours, rules
from plugins.sms_module.models import Queue, SmsCampaign, SmsMessage
from plugins.sms_module.models.statuses import Status
from plugins.sms_module.sending import outbox as pipeline
from plugins.sms_module.sending import service
from tests.conftest import login
from tests.support_pages import page_text
from tests.support_pipeline import in_process_app, message
from tests.support_sms import give_consent, login_en, mark_disclaimed, module_on, ready_to_send

TRANSACTIONAL = {
    "+14386013562",
    "+14386013492",
    "+14386011668",
    "+14386011575",
    "+14386014488",
    "+14386013998",
}
PROMOTIONAL = {"+14386013549", "+14386013643"}
ZONE = ZoneInfo("America/Toronto")  # both test shops' zone (Quebec and Ontario)


def quiet_hours_away_from_now() -> dict:
    """Quiet hours that hold no moment of the next two hours, whenever the tests run."""
    hour = datetime.now(ZONE).hour
    return {"SMS_QUIET_START_HOUR": (hour + 3) % 24, "SMS_QUIET_END_HOUR": (hour + 4) % 24}


@pytest.fixture
def app(make_app, redis_url):
    """Campaigns due now are due now (no quiet hours around), one message per send job."""
    return in_process_app(make_app, SMS_RETRY_BASE_SECONDS=0.01, **quiet_hours_away_from_now())


def add_customer(shop_id: int, name: str, phone: str | None, *, language=None, consent=True):
    customer = Customer(
        company_id=shop_id, first_name=name, last_name="Test", mobile_phone=phone, language=language
    )
    db.session.add(customer)
    db.session.commit()
    if consent:
        give_consent(customer.id)
    return customer.id


def new_campaign(shop_id: int, body: str = "Winter tires: 10% off this week", **fields) -> int:
    campaign = SmsCampaign(
        company_id=shop_id, name=fields.pop("name", "Winter"), body=body, send_at=utcnow(), **fields
    )
    db.session.add(campaign)
    db.session.commit()
    return campaign.id


def campaign_messages(campaign_id: int) -> list[SmsMessage]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(SmsMessage).where(SmsMessage.campaign_id == campaign_id).order_by(SmsMessage.id)
        )
    )


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def carrier(app) -> SimulatorCarrier:
    return SimulatorCarrier.from_config(app.config)


@pytest.fixture
def audience(app, shops):
    """Shop A (module on) with: its customer (consent, a phone new to the shop), one with
    consent already disclaimed, one without consent, one opted out, one without phone;
    shop B's customer consents too (module on), and must never get shop A's campaign."""
    with app.app_context():
        company, customer = ready_to_send(shops, "a", disclaimed=False)
        ready_to_send(shops, "b")
        a = shops["a"]["shop"]
        ids = {
            "new": customer.id,
            "known": add_customer(a, "Known", "+15145550201"),
            "no_consent": add_customer(a, "Silent", "+15145550202", consent=False),
            "stopped": add_customer(a, "Stopped", "+15145550203"),
            "no_phone": add_customer(a, "Landline", None),
        }
        known = db.session.get(Customer, ids["known"])
        mark_disclaimed(company, known, known.mobile_phone)
        opt_out.opt_out("+15145550203", "sms_keyword", None, "STOP")
        db.session.commit()
    return ids


def test_a_campaign_reaches_each_consenting_customer_once_from_a_promotional_number(
    app, shops, audience
):
    with app.app_context():
        cid = new_campaign(shops["a"]["shop"])
        assert campaigns.prepare(cid) == "prepared: 4 recipient(s), 2 refused"
        rows = campaign_messages(cid)
        by_customer = {m.customer_id: m for m in rows}
        assert sorted(by_customer) == sorted(
            audience[k] for k in ("new", "known", "no_consent", "stopped")
        )
        assert len(rows) == 4  # each customer once; no phone, no message; shop B none
        sent_to = [by_customer[audience["new"]], by_customer[audience["known"]]]
        for m in sent_to:
            assert (m.queue, m.kind, m.status) == (Queue.PROMOTIONAL, "campaign", Status.QUEUED)
            assert m.dedupe_key == f"campaign:{cid}:{m.customer_id}"
            assert m.body == "Winter tires: 10% off this week"
            assert m.created_by_id is None and m.history[0].source == "campaign"
        assert not db.session.scalar(
            select(func.count())
            .select_from(SmsMessage)
            .where(SmsMessage.company_id == shops["b"]["shop"], SmsMessage.kind == "campaign")
        )

        # The new phone gets the disclaimer first, on the transactional queue.
        new = by_customer[audience["new"]]
        first = db.session.scalar(
            select(SmsMessage).where(SmsMessage.phone == new.phone, SmsMessage.kind == "disclaimer")
        )
        assert first.queue == Queue.TRANSACTIONAL and first.id < new.id
        assert jobs.send_message(new.id) == "waiting for the disclaimer"
        assert jobs.send_message(first.id) == "sent"
        assert message(first.id).sender_number in TRANSACTIONAL
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
        by_customer = {m.customer_id: m for m in campaign_messages(cid)}
        silent = by_customer[audience["no_consent"]]
        stopped = by_customer[audience["stopped"]]
        assert (silent.status, silent.failure_code) == (Status.FAILED, "no_consent")
        assert "No express consent" in silent.failure_reason
        assert (stopped.status, stopped.failure_code) == (Status.FAILED, "opted_out")
        assert "replied STOP" in stopped.failure_reason
        assert silent.queue == Queue.PROMOTIONAL and silent.kind == "campaign"
        counts = campaigns.status_counts([cid])[cid]
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
        customers = {m.customer_id for m in campaign_messages(cid)}
        assert audience["known"] in customers and twin not in customers


def test_the_language_filter_picks_the_audience(app, shops):
    with app.app_context():
        module_on(shops["a"]["shop"])
        a = shops["a"]["shop"]  # a French-speaking shop: no language on file reads French
        english = add_customer(a, "English", "+15145550211", language="en")
        french = add_customer(a, "French", "+15145550212", language="fr")
        unknown = add_customer(a, "Unknown", "+15145550213")
        silent = add_customer(a, "Silent", "+15145550214", language="en", consent=False)
        counts = campaigns.audience_counts(db.session.get(Company, a))
        # Shop A's own customer (no language on file) has no consent.
        assert (counts[""].customers, counts[""].reachable) == (5, 3)
        assert (counts["en"].customers, counts["en"].reachable) == (2, 1)
        assert (counts["fr"].customers, counts["fr"].reachable) == (3, 2)
        to_english = new_campaign(a, "Sale", language="en")
        to_french = new_campaign(a, "Solde", language="fr")
        campaigns.prepare(to_english)
        campaigns.prepare(to_french)
        assert {m.customer_id for m in campaign_messages(to_english)} == {english, silent}
        assert {m.customer_id for m in campaign_messages(to_french)} == {
            french,
            unknown,
            shops["a"]["customer"],
        }


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


def test_the_page_moves_a_send_time_in_the_quiet_hours_and_says_so(make_app, shops, app):
    quiet = make_app(SMS_QUIET_START_HOUR=21, SMS_QUIET_END_HOUR=8)
    with quiet.app_context():
        module_on(shops["a"]["shop"])
    client = quiet.test_client()
    login_en(client, shops["a"]["admin"])
    tomorrow = datetime.now(ZONE).date() + timedelta(days=1)
    response = client.post(
        "/sms/campaigns/",
        data={"name": "Night", "body": "Sale", "send_at": f"{tomorrow}T22:30", "language": ""},
    )
    assert response.status_code == 303
    page = page_text(client.get(response.headers["Location"]))
    assert "falls in the quiet hours (21:00 to 08:00, shop time)" in page
    with quiet.app_context():
        campaign = db.session.scalar(select(SmsCampaign))
        assert campaign.send_at.astimezone(ZONE).replace(tzinfo=None) == datetime.combine(
            tomorrow + timedelta(days=1), time(8)
        )
        assert campaign.requested_send_at.astimezone(ZONE).replace(tzinfo=None) == (
            datetime.combine(tomorrow, time(22, 30))
        )
        assert "leaves at" in page and page.count("8:00:00") >= 1
        # A daytime one stays as typed.
    response = client.post(
        "/sms/campaigns/",
        data={"name": "Day", "body": "Sale", "send_at": f"{tomorrow}T14:00", "language": ""},
    )
    with quiet.app_context():
        day = db.session.scalar(select(SmsCampaign).where(SmsCampaign.name == "Day"))
        assert day.send_at.astimezone(ZONE).hour == 14 and day.requested_send_at is None
    assert "quiet hours" not in page_text(client.get(response.headers["Location"]))


def test_a_fan_out_running_in_the_quiet_hours_schedules_for_the_morning(make_app, shops, app):
    hour = datetime.now(ZONE).hour
    night = make_app(SMS_QUIET_START_HOUR=(hour - 1) % 24, SMS_QUIET_END_HOUR=(hour + 1) % 24)
    with night.app_context():
        ready_to_send(shops, "a")
        cid = new_campaign(shops["a"]["shop"])  # due "now", and now is the night
        campaigns.prepare(cid)
        [sent] = campaign_messages(cid)
        morning = datetime.combine(datetime.now(ZONE).date(), time((hour + 1) % 24), ZONE)
        if morning <= datetime.now(ZONE):
            morning += timedelta(days=1)
        assert sent.send_at == morning.astimezone(UTC) and sent.status == Status.SCHEDULED
        campaign = db.session.get(SmsCampaign, cid)
        assert campaign.send_at == sent.send_at and campaign.requested_send_at is not None


def form(**changes) -> dict:
    return {"name": "Winter", "body": "Tires 10% off", "send_at": "", "language": "", **changes}


def local_input(delta: timedelta) -> str:
    return (datetime.now(ZONE) + delta).strftime("%Y-%m-%dT%H:%M")


BAD_INPUTS = [
    ({"name": ""}, 'Name the campaign, e.g. "Winter tires".'),
    ({"name": "   "}, 'Name the campaign, e.g. "Winter tires".'),
    ({"name": "x" * 101}, "The name has 101 characters; the limit is 100."),
    ({"body": ""}, "The message is empty: write the text to send."),
    ({"body": "  \n "}, "The message is empty: write the text to send."),
    ({"body": "a" * 1601}, "The message has 1601 characters; the limit is 1600."),
    ({"send_at": "tomorrow"}, "Enter the send time as a date and a time"),
    ({"send_at": "2026-13-45T10:00"}, "Enter the send time as a date and a time"),
    ({"send_at": "9999-12-31T23:59"}, "Enter the send time as a date and a time"),
    ({"send_at": "past"}, "The send time has passed"),
    ({"send_at": "far"}, "Choose a send time within a year."),
    ({"language": "de"}, "Choose the audience: all customers, English or French speakers."),
]


@pytest.mark.parametrize(("changes", "error"), BAD_INPUTS)
def test_bad_input_is_refused_with_422_its_message_and_no_row(app, client, shops, changes, error):
    if changes.get("send_at") == "past":
        changes = {"send_at": local_input(-timedelta(minutes=5))}
    elif changes.get("send_at") == "far":
        changes = {"send_at": local_input(timedelta(days=400))}
    with app.app_context():
        ready_to_send(shops)
        before = (count(SmsCampaign), count(SmsMessage))
    login_en(client, shops["a"]["admin"])
    data = {**form(name="Kept name", body="Kept body"), **changes}
    response = client.post("/sms/campaigns/", data=data)
    text = page_text(response)
    assert response.status_code == 422
    assert error in text
    for key in ("name", "body"):  # the typed values stay
        if key not in changes:
            assert f"Kept {key}" in text
    with app.app_context():
        assert (count(SmsCampaign), count(SmsMessage)) == before
        assert get_queue("promotional").count == 0


def test_a_send_time_a_moment_ago_is_now(app, client, shops):
    with app.app_context():
        ready_to_send(shops)
    login_en(client, shops["a"]["admin"])
    response = client.post("/sms/campaigns/", data=form(send_at=local_input(timedelta(0))))
    assert response.status_code == 303
    with app.app_context():
        campaign = db.session.scalar(select(SmsCampaign))
        assert abs(campaign.send_at - utcnow()) < timedelta(seconds=30)


def test_every_error_of_a_form_is_shown_at_once(app, client, shops):
    with app.app_context():
        ready_to_send(shops)
    login_en(client, shops["a"]["admin"])
    response = client.post("/sms/campaigns/", data=form(name="", body="", language="xx"))
    text = page_text(response)
    assert response.status_code == 422
    assert 'id="campaign-name-error"' in text and 'id="campaign-body-error"' in text
    assert 'id="campaign-language-error"' in text and 'id="campaign-send-at-error"' not in text


def test_a_good_campaign_is_committed_queued_and_shown(app, client, shops):
    with app.app_context():
        ready_to_send(shops)
    login_en(client, shops["a"]["admin"])
    response = client.post("/sms/campaigns/", data=form(name="  Winter  ", language="fr"))
    assert response.status_code == 303
    with app.app_context():
        campaign = db.session.scalar(select(SmsCampaign))
        assert (campaign.name, campaign.language, campaign.prepared_at) == ("Winter", "fr", None)
        assert campaign.created_by_id == shops["a"]["admin_id"]
        assert response.headers["Location"].endswith(f"/sms/campaigns/{campaign.id}")
        [job] = get_queue("promotional").get_jobs()
        assert job.func_name == "plugins.sms_module.jobs.prepare_campaign" and job.args == (
            campaign.id,
        )
        assert not campaign_messages(campaign.id)  # the job does the fan-out, not the page
    page = page_text(client.get(response.headers["Location"]))
    assert 'Campaign "Winter" saved' in page and "being prepared" in page
    with app.app_context():
        assert job.perform() == "prepared: 1 recipient(s), 0 refused"
    page = page_text(client.get(response.headers["Location"]))
    assert "1 customer(s) asked, 0 refused" in page and "Client A" in page


def test_the_form_shows_the_audience_and_the_cost_before_sending(app, client, shops):
    with app.app_context():
        ready_to_send(shops)
        add_customer(shops["a"]["shop"], "English", "+15145550221", language="en")
        add_customer(shops["a"]["shop"], "Silent", "+15145550222", consent=False)
    login_en(client, shops["a"]["admin"])
    text = page_text(client.get("/sms/campaigns/"))
    assert '<span id="campaign-customers">3</span>' in text
    assert '<span id="campaign-reachable">2</span>' in text
    assert 'src="/sms/static/compose.js"' in text and 'id="sms-counter"' in text
    # After a refusal the typed body's estimate is there: 2 segments × 0.0100 × 2 customers.
    text = page_text(client.post("/sms/campaigns/", data=form(name="", body="a" * 200)))
    assert '<span id="campaign-segments">2</span>' in text
    assert '<span id="campaign-cost">0.04</span> CAD' in text
    text = page_text(client.post("/sms/campaigns/", data=form(name="", language="en")))
    assert '<span id="campaign-customers">1</span>' in text


def test_module_off_or_location_missing_refuses_with_the_send_services_messages(app, client, shops):
    login_en(client, shops["a"]["admin"])
    with app.app_context():
        off = rules.module_off_message()
        nowhere = rules.location_message()
    page = page_text(client.get("/sms/campaigns/"))
    assert off in page and 'id="campaign-form"' not in page
    response = client.post("/sms/campaigns/", data=form())
    assert response.status_code == 422 and off in page_text(response)
    with app.app_context():
        module_on(shops["a"]["shop"])
        db.session.get(Company, shops["a"]["shop"]).province = None
        db.session.commit()
    page = page_text(client.get("/sms/campaigns/"))
    assert nowhere in page and 'id="campaign-form"' not in page
    response = client.post("/sms/campaigns/", data=form())
    assert response.status_code == 422 and nowhere in page_text(response)
    with app.app_context():
        assert count(SmsCampaign) == 0 and count(SmsMessage) == 0


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


@pytest.mark.parametrize("who", ["staff", "operator"])
def test_staff_and_operators_get_403(app, client, shops, who):
    with app.app_context():
        ready_to_send(shops)
        cid = new_campaign(shops["a"]["shop"])
    login(client, shops["a"]["staff"] if who == "staff" else "operator@example.com")
    if who == "operator":
        with client.session_transaction() as session:
            session["shop_id"] = shops["a"]["shop"]  # even with shop A picked
    assert client.get("/sms/campaigns/").status_code == 403
    assert client.post("/sms/campaigns/", data=form()).status_code == 403
    assert client.get(f"/sms/campaigns/{cid}").status_code == 403
    with app.app_context():
        assert count(SmsCampaign) == 1
    menu = client.get("/").text
    assert "/sms/campaigns/" not in menu


def test_the_menu_offers_campaigns_to_shop_admins(client, shops):
    login_en(client, shops["a"]["admin"])
    assert 'href="/sms/campaigns/"' in client.get("/").text


def test_another_shops_campaign_is_404_and_never_listed(app, client, shops):
    with app.app_context():
        ready_to_send(shops, "a")
        ready_to_send(shops, "b")
        mine = new_campaign(shops["a"]["shop"], name="Ours in A")
        theirs = new_campaign(shops["b"]["shop"], name="Secret of B", body="B only")
        campaigns.prepare(theirs)
    login_en(client, shops["a"]["admin"])
    assert client.get(f"/sms/campaigns/{theirs}").status_code == 404
    assert client.get(f"/sms/campaigns/{mine}").status_code == 200
    listing = page_text(client.get("/sms/campaigns/"))
    assert "Ours in A" in listing and "Secret of B" not in listing
    assert f'data-campaign="{theirs}"' not in listing


def test_the_list_counts_by_status_in_bounded_queries(app, client, shops, audience):
    with app.app_context():
        first = new_campaign(shops["a"]["shop"], name="First")
        campaigns.prepare(first)
        [sent] = [m for m in campaign_messages(first) if m.customer_id == audience["known"]]
        jobs.send_message(sent.id)
    login_en(client, shops["a"]["admin"])

    def statements() -> int:
        seen = []
        with app.app_context():
            engine = db.engine
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert client.get("/sms/campaigns/").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(seen)

    few = statements()
    with app.app_context():
        for n in range(8):
            campaigns.prepare(new_campaign(shops["a"]["shop"], name=f"More {n}"))
    assert statements() == few  # no query per campaign
    listing = client.get("/sms/campaigns/").text
    row = listing[listing.index(f'data-campaign="{first}"') :]
    row = row[: row.index("</tr>")]
    for bucket, expected in {"waiting": 1, "sent": 1, "refused": 2, "failed": 0}.items():
        assert f'data-bucket="{bucket}">{expected}<' in row
    assert listing.index("More 7") < listing.index("First")  # newest first


def test_the_sweep_reenqueues_a_campaign_redis_lost_and_no_other(app, client, shops):
    with app.app_context():
        ready_to_send(shops)
    login_en(client, shops["a"]["admin"])
    assert client.post("/sms/campaigns/", data=form(name="Lost")).status_code == 303
    assert client.post("/sms/campaigns/", data=form(name="Done")).status_code == 303
    with app.app_context():
        lost, done = (
            db.session.scalar(select(SmsCampaign.id).where(SmsCampaign.name == n))
            for n in ("Lost", "Done")
        )
        campaigns.prepare(done)
        queue = get_queue("promotional")
        assert campaigns.sweep_unprepared(0) == 0  # its job is waiting on the queue
        get_redis().flushdb()  # Redis loses everything
        assert campaigns.sweep_unprepared(3600) == 0  # too recent: its enqueue may be coming
        jobs.sweep()  # the workers' periodic sweeper: nothing older than its grace yet
        assert queue.count == 0
        db.session.execute(update(SmsCampaign).values(created_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
        jobs.sweep()
        [job] = queue.get_jobs()
        assert job.args == (lost,) and job.origin == "promotional"
        assert campaigns.sweep_unprepared(0) == 0  # queued again: not twice
        assert job.perform().startswith("prepared")
        get_redis().flushdb()
        assert campaigns.sweep_unprepared(0) == 0  # both prepared: nothing to do
        assert queue.count == 0


def test_a_fan_out_killed_mid_way_is_taken_over(app, shops, audience):
    with app.app_context():
        cid = new_campaign(shops["a"]["shop"])
        campaigns.enqueue(cid)
        [job] = get_queue("promotional").get_jobs()
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
        kept = db.session.get(SmsMessage, refused.value.message_id)
        assert kept.status == Status.FAILED and kept.campaign_id is None
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


def test_a_campaign_message_still_waiting_at_night_is_held_until_the_morning(app, shops):
    """The night comes while a large campaign is still sending: its messages wait for the
    end of the quiet hours, shop time, and go then."""
    hour = datetime.now(ZONE).hour
    with app.app_context():
        module_on(shops["a"]["shop"])
        late_id = add_customer(shops["a"]["shop"], "Late", "+15145550301")
        company = db.session.get(Company, shops["a"]["shop"])
        mark_disclaimed(company, db.session.get(Customer, late_id), "+15145550301")
        cid = new_campaign(shops["a"]["shop"])
        campaigns.prepare(cid)
        (late,) = [m for m in campaign_messages(cid) if m.status == Status.QUEUED]
        # Now is the night: the quiet hours started this hour and end in two.
        app.config.update(SMS_QUIET_START_HOUR=hour, SMS_QUIET_END_HOUR=(hour + 2) % 24)
        assert jobs.send_message(late.id) == "waiting for the morning"
        held = message(late.id)
        morning = held.send_at.astimezone(ZONE)
        assert (morning.hour, morning.minute) == ((hour + 2) % 24, 0)
        assert morning > datetime.now(ZONE) and held.status == Status.QUEUED
        assert carrier(app).sent_count() == 0
        assert pipeline.live_job(late.id) is not None  # its job waits for the morning
        # A transactional message goes at night as always.
        company, customer = ready_to_send(shops)
        urgent = service.request_send(company, customer=customer, body="Your car is ready")
        assert jobs.send_message(urgent.id) == "sent"
        # Morning: the held message goes.
        app.config.update(**quiet_hours_away_from_now())
        db.session.execute(
            update(SmsMessage).where(SmsMessage.id == late.id).values(send_at=utcnow())
        )
        db.session.commit()
        assert jobs.send_message(late.id) == "sent"
