"""Appointment reminders: the shop's lead before the start, never at night."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from host.extensions import db
from host.models import Appointment
from plugins.sms_module import notifications

TORONTO = ZoneInfo("America/Toronto")


def at(local: str) -> datetime:
    return datetime.fromisoformat(local).replace(tzinfo=TORONTO)


@pytest.mark.parametrize(
    "start,now,expected",
    [
        ("2026-12-03 14:00", "2026-12-01 09:00", "2026-12-02 14:00"),  # 24 h before
        ("2026-12-03 07:30", "2026-12-01 09:00", "2026-12-01 20:00"),  # night: evening before
        ("2026-12-03 22:30", "2026-12-01 09:00", "2026-12-02 20:00"),  # night: same evening
        ("2026-12-02 15:00", "2026-12-02 10:00", "2026-12-02 10:00"),  # too late: now, by day
        ("2026-12-02 10:30", "2026-12-02 10:00", None),  # under an hour ahead: none
        ("2026-12-02 12:00", "2026-12-01 23:30", None),  # too late and it is night: none
    ],
)
def test_reminder_time(app, shops, start, now, expected):
    with app.app_context():
        a = db.session.get(Appointment, shops["a"]["appointment"])
        a.starts_at = at(start)
        found = notifications.reminder_time(a, now=at(now))
        assert (found.astimezone(TORONTO).strftime("%Y-%m-%d %H:%M") if found else None) == expected


def test_shop_chooses_the_reminder_lead(client, app, shops):
    from tests.support_sms import login_en

    login_en(client, shops["a"]["admin"])
    assert (
        client.post("/sms/settings/reminders", data={"reminder_hours_before": "0"}).status_code
        == 422
    )
    assert (
        client.post("/sms/settings/reminders", data={"reminder_hours_before": "x"}).status_code
        == 422
    )
    assert (
        client.post("/sms/settings/reminders", data={"reminder_hours_before": "48"}).status_code
        == 302
    )
    assert 'value="48"' in client.get("/sms/settings/").get_data(as_text=True)
    with app.app_context():
        a = db.session.get(Appointment, shops["a"]["appointment"])
        a.starts_at = at("2026-12-05 14:00")
        found = notifications.reminder_time(a, now=at("2026-12-01 09:00"))
        assert found.astimezone(TORONTO).strftime("%Y-%m-%d %H:%M") == "2026-12-03 14:00"
    client.post("/logout")
    login_en(client, shops["a"]["staff"])
    assert (
        client.post("/sms/settings/reminders", data={"reminder_hours_before": "12"}).status_code
        == 403
    )
