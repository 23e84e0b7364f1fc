"""The appointment form as staff fill it in, and what the tests of this folder read back:
the clock they set, the customer's texts."""

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from host.extensions import db
from plugins.sms_module.models import SmsMessage
from tests.support_sms import run_event_jobs

TORONTO = ZoneInfo("America/Toronto")
# A Tuesday morning, shop time: every test here reads the clock from this moment on.
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=TORONTO)


def save(client, appointment_id, when: datetime, status: str, customer_id: int, run: bool = True):
    """Save the appointment form (book when ``appointment_id`` is None); run the event job
    (unless ``run`` is false: a worker that is behind)."""
    url = f"/appointments/{appointment_id}" if appointment_id else "/appointments/new"
    data = {
        "customer_id": customer_id,
        "starts_at": when.astimezone(TORONTO).strftime("%Y-%m-%dT%H:%M"),
        "vehicle": "Civic",
        "status": status,
    }
    response = client.post(url, data=data)
    if response.status_code == 302:
        if run:
            with client.application.app_context():
                run_event_jobs()
        return int(response.headers["Location"].rstrip("/").split("/")[-1])
    return response


def messages(customer_id: int) -> dict[str, SmsMessage]:
    db.session.expire_all()
    rows = db.session.scalars(
        select(SmsMessage).where(
            SmsMessage.customer_id == customer_id, SmsMessage.kind != "disclaimer"
        )
    )
    return {m.kind: m for m in rows}


def all_of(customer_id: int, kind: str) -> list[SmsMessage]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(SmsMessage)
            .where(SmsMessage.customer_id == customer_id, SmsMessage.kind == kind)
            .order_by(SmsMessage.id)
        )
    )
