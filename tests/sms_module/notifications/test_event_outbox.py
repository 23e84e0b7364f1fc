"""Host events as the SMS module's outbox (issue 15, point 1): what an event must send is
sent once Redis is back, however long it was away or whatever it lost, and never twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from rq import SimpleWorker
from sqlalchemy import delete, select

from host.event_log import HostEvent
from host.extensions import db
from host.models import Appointment, Invoice
from host.redis_connection import get_queue, get_redis
from plugins.sms_module import jobs
from plugins.sms_module.jobs import EVENT_JOB_PATHS
from plugins.sms_module.models import SmsMessage
from plugins.sms_module.notifications.event_outbox import SmsEventHandled, sweep_events
from tests.conftest import login
from tests.support_pipeline import in_process_app
from tests.support_sms import module_on, ready_to_send

TORONTO = ZoneInfo("America/Toronto")
REDIS_DOWN = "redis://127.0.0.1:1/0"  # nothing listens there


@pytest.fixture
def app(make_app):
    return in_process_app(make_app)


@pytest.fixture(autouse=True)
def daytime(time_machine):
    """A Tuesday morning, shop time; the tests move the clock past the sweeper's grace."""
    time_machine.move_to(datetime(2026, 12, 1, 10, 0, tzinfo=TORONTO), tick=True)


@pytest.fixture
def ready(app, shops):
    """Shop A ready to send, the jobs of the set-up's own events run (the shops' customers
    were saved), as a worker would have by now."""
    with app.app_context():
        ready_to_send(shops)
        run_worker()
    return shops


@pytest.fixture
def down(make_app, app, ready):
    """A client of the web app whose Redis is away, logged in as shop A's staff."""
    shops = ready
    web = make_app(REDIS_URL=REDIS_DOWN)
    client = web.test_client()
    login(client, shops["a"]["staff"])
    return client


def book(client, customer_id: int, when: datetime) -> int:
    local = when.astimezone(TORONTO).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        "/appointments/new",
        data={
            "customer_id": customer_id,
            "starts_at": local,
            "vehicle": "Civic",
            "status": "booked",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def of_kind(kind: str) -> list[SmsMessage]:
    db.session.expire_all()
    return list(
        db.session.scalars(select(SmsMessage).where(SmsMessage.kind == kind).order_by("id"))
    )


class EventCountingWorker(SimpleWorker):
    """A burst worker in this process that counts the event jobs it ran."""

    events_ran = 0

    def execute_job(self, job, queue):
        if job.func_name in EVENT_JOB_PATHS:
            self.events_ran += 1
        return super().execute_job(job, queue)


def run_worker() -> int:
    """Run the transactional queue's jobs (event jobs and the sends they queue) in a burst
    worker, in this app context; return how many event jobs it ran."""
    worker = EventCountingWorker([get_queue("transactional")], connection=get_redis())
    worker.work(burst=True, with_scheduler=False)
    return worker.events_ran


def test_bookings_made_while_redis_is_down_are_confirmed_once_when_it_is_back(
    down, app, shops, time_machine
):
    cid = shops["a"]["customer"]
    start = datetime.now(UTC) + timedelta(days=3)
    booked = [book(down, cid, start + timedelta(hours=i)) for i in range(5)]
    assert down.get(f"/appointments/{booked[0]}").status_code == 200  # where the save leads
    with app.app_context():
        assert of_kind("appointment_booked") == []  # every enqueue failed
        logged = db.session.scalars(
            select(HostEvent.target_id).where(HostEvent.hook == "appointment_changed")
        ).all()
        assert sorted(set(logged) & set(booked)) == sorted(booked)
        get_redis().flushdb()  # Redis restarted empty
        assert sweep_events() == 0  # within the grace: a hook may still be enqueuing
        time_machine.shift(timedelta(seconds=app.config["SMS_SWEEP_GRACE_SECONDS"] + 1))
        jobs.sweep()
        assert run_worker() == 5
        confirmations = of_kind("appointment_booked")
        assert sorted(m.appointment_id for m in confirmations) == sorted(booked)
        # Swept and run again: nothing more.
        jobs.sweep()
        run_worker()
        assert sweep_events() == 0
        assert len(of_kind("appointment_booked")) == 5
        assert len(of_kind("appointment_reminder")) == 5


def test_pages_save_and_print_while_redis_is_down_and_the_texts_follow(
    down, app, shops, time_machine
):
    assert down.post(f"/invoices/{shops['a']['invoice']}/print").status_code == 302
    response = down.post(
        f"/customers/{shops['a']['customer']}",
        data={
            "first_name": "Client",
            "last_name": "A",
            "mobile_phone": "514 555 0101",
            "email": "",
            "language": "",
            "sms_consent": "y",  # consent kept
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    for page in (f"/invoices/{shops['a']['invoice']}/printable", response.headers["Location"]):
        assert down.get(page).status_code == 200, page
    with app.app_context():
        assert of_kind("invoice_printed") == []
        hooks = db.session.scalars(select(HostEvent.hook).order_by(HostEvent.id.desc())).all()
        assert hooks[:2] == ["customer_saved", "invoice_printed"]
        time_machine.shift(timedelta(seconds=app.config["SMS_SWEEP_GRACE_SECONDS"] + 1))
        assert sweep_events() == 2
        assert run_worker() == 2
        [thanks] = of_kind("invoice_printed")
        assert thanks.customer_id == shops["a"]["customer"]
        assert sweep_events() == 0


def test_the_sweeper_leaves_an_event_whose_job_is_waiting(app, ready, time_machine):
    shops = ready
    with app.app_context():
        appointment = db.session.get(Appointment, shops["a"]["appointment"])
        appointment.vehicle = "Corolla"
        db.session.commit()  # the hook queues the event's job
        time_machine.shift(timedelta(seconds=app.config["SMS_SWEEP_GRACE_SECONDS"] + 1))
        assert sweep_events() == 0  # it has a live job
        get_redis().flushdb()
        assert sweep_events() == 1  # the job is gone: queued again
        assert sweep_events() == 0
        assert run_worker() == 1
        assert sweep_events() == 0  # handled


def test_the_event_job_run_twice_for_the_same_event_sends_once(app, ready):
    shops = ready
    with app.app_context():
        appointment = db.session.get(Appointment, shops["a"]["appointment"])
        appointment.starts_at = appointment.starts_at + timedelta(hours=2)
        db.session.commit()
        [queued] = get_queue("transactional").get_jobs()
        args = queued.args
        eid = int(args[3])
        assert jobs.appointment_changed(*args) == "done"
        assert jobs.appointment_changed(*args) == "already handled"
        # Its worker died after the work, before the event was recorded handled: the texts'
        # keys carry the event, so the run again sends nothing twice.
        db.session.execute(delete(SmsEventHandled).where(SmsEventHandled.event_id == eid))
        db.session.commit()
        assert jobs.appointment_changed(*args) == "done"
        assert len(of_kind("appointment_moved")) == 1
        assert len(of_kind("appointment_reminder")) == 1


def test_a_print_job_run_twice_sends_once_and_a_reprint_sends_nothing_new(app, ready):
    shops = ready
    with app.app_context():
        invoice = db.session.get(Invoice, shops["a"]["invoice"])
        for _ in range(2):  # printed twice: two events
            invoice.print_count = (invoice.print_count or 0) + 1
            db.session.commit()
        queued = get_queue("transactional").get_jobs()
        assert [j.args for j in queued] == [(invoice.id, j.args[1]) for j in queued]
        assert len({j.args[1] for j in queued}) == 2
        for job in queued * 2:
            jobs.invoice_printed(*job.args)
        assert len(of_kind("invoice_printed")) == 1  # today's rule: thanked once per invoice


def test_an_event_while_the_module_is_off_is_never_sent_later(app, ready, time_machine):
    shops = ready
    with app.app_context():
        module_on(shops["a"]["shop"], enabled=False)
        appointment = db.session.get(Appointment, shops["a"]["appointment"])
        appointment.status = "confirmed"
        db.session.commit()
        get_redis().flushdb()
        module_on(shops["a"]["shop"])  # switched on a minute later
        time_machine.shift(timedelta(minutes=1))
        assert sweep_events() == 0
        assert run_worker() == 0


def test_events_older_than_the_sweep_window_are_left(app, ready, time_machine):
    shops = ready
    with app.app_context():
        appointment = db.session.get(Appointment, shops["a"]["appointment"])
        appointment.vehicle = "Corolla"
        db.session.commit()
        get_redis().flushdb()
        hours = app.config["SMS_EVENT_SWEEP_HOURS"]
        time_machine.shift(timedelta(hours=hours, seconds=1))
        assert sweep_events() == 0
