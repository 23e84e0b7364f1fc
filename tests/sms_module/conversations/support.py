"""Helpers for the conversations' tests: signed inbound SMS, messages sent, what came in."""

from __future__ import annotations

from dataclasses import dataclass

from rq.job import Job
from sqlalchemy import select

from host.extensions import db
from host.redis_connection import get_redis
from plugins.sms_module import jobs
from plugins.sms_module.carriers.webhooks import signature_for
from plugins.sms_module.conversations import forwarding
from plugins.sms_module.models import Kind, ShopSmsSettings, SmsMessage
from plugins.sms_module.sending import service
from tests.support_pipeline import message
from tests.support_sms import ready_to_send

PATH = "/sms/twilio/inbound"


def post_inbound(client, app, sid="SMin1", phone="+15145550101", to="+14386013562", body="Hi"):
    """Post an inbound SMS signed like the carrier's, then do what the sweeper does within
    the second: give the reply its forward job (``forwarding.sweep_forwards``)."""
    url = app.config["SMS_PUBLIC_BASE_URL"].rstrip("/") + PATH
    params = {"MessageSid": sid, "From": phone, "To": to, "Body": body, "AccountSid": "ACx"}
    signature = signature_for(app.config["SMS_SIMULATOR_AUTH_TOKEN"], url, params)
    answer = client.post(PATH, data=params, headers={"X-Twilio-Signature": signature})
    with app.app_context():
        forwarding.sweep_forwards(grace_seconds=0)
    return answer


@dataclass(frozen=True)
class Sent:
    id: int
    phone: str
    sender_number: str


def sent_to(shops, key="a", body="Your car is ready") -> Sent:
    """Send shop ``key``'s customer a message through the pipeline; say where it went."""
    company, customer = ready_to_send(shops, key)
    mid = service.request_send(company, customer=customer, body=body).id
    assert jobs.send_message(mid) == "sent"
    sent = message(mid)
    return Sent(sent.id, sent.phone, sent.sender_number)


def inbound_messages() -> list[SmsMessage]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(SmsMessage).where(SmsMessage.direction == "inbound").order_by(SmsMessage.id)
        )
    )


def answers() -> list[SmsMessage]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(SmsMessage).where(SmsMessage.kind == Kind.KEYWORD_ANSWER).order_by(SmsMessage.id)
        )
    )


def forward_job(message_id: int) -> Job | None:
    return (
        Job.fetch(forwarding.forward_job_id(message_id), connection=get_redis())
        if (get_redis().exists(f"rq:job:{forwarding.forward_job_id(message_id)}"))
        else None
    )


def forward_settings(company_id: int, emails: str | None = None, cell: str | None = None):
    db.session.merge(
        ShopSmsSettings(company_id=company_id, forward_emails=emails, forward_phone=cell)
    )
    db.session.commit()
