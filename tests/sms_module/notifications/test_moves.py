"""An appointment moved: the customer is told the new time, again when it comes back to
a time, and once when a worker catches up on many moves late (PRODUCT.md §10)."""

from datetime import timedelta

from plugins.sms_module.models.statuses import Status
from tests.sms_module.notifications.appointment_form import NOW, all_of, save
from tests.support_sms import run_event_jobs


def test_a_time_the_appointment_comes_back_to_is_told_again(staff, app, shops):
    # Moved to the 4th, back to the 3rd, to the 4th again: the customer's last text names the
    # 4th, and the reminder waiting is the 4th's.
    cid = shops["a"]["customer"]
    third, fourth = NOW + timedelta(days=2), NOW + timedelta(days=3)
    aid = save(staff, None, third, "booked", cid)
    for when in (fourth, third, fourth):
        save(staff, aid, when, "booked", cid)
    with app.app_context():
        moved = all_of(cid, "appointment_moved")
        assert len(moved) == 3
        assert "4 décembre" in moved[-1].body or "December 4" in moved[-1].body
        waiting = [m for m in all_of(cid, "appointment_reminder") if m.status == Status.SCHEDULED]
        assert [m.appointment_starts_at for m in waiting] == [fourth]


def test_a_worker_catching_up_on_many_moves_tells_the_time_once(staff, app, shops):
    # The event jobs run after all the saves (a worker that was behind): each reads the
    # present start. The first tells it; the others have nothing new to say.
    cid = shops["a"]["customer"]
    aid = save(staff, None, NOW + timedelta(days=2), "booked", cid)
    for days in (3, 4, 5):
        save(staff, aid, NOW + timedelta(days=days), "booked", cid, run=False)
    with app.app_context():
        assert run_event_jobs() == 3
        moved = all_of(cid, "appointment_moved")
        assert [m.appointment_starts_at for m in moved] == [NOW + timedelta(days=5)]
    # Away and back to the time last told, the jobs late again: nothing new to say.
    for days in (6, 5):
        save(staff, aid, NOW + timedelta(days=days), "booked", cid, run=False)
    with app.app_context():
        assert run_event_jobs() == 2
        assert len(all_of(cid, "appointment_moved")) == 1
        waiting = [m for m in all_of(cid, "appointment_reminder") if m.status == Status.SCHEDULED]
        assert [m.appointment_starts_at for m in waiting] == [NOW + timedelta(days=5)]
