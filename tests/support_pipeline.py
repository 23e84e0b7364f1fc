"""Helpers for the sending pipeline's tests: accepted messages, signed reports."""

from __future__ import annotations

from host.extensions import db
from host.models import Customer
from plugins.sms_module import services
from plugins.sms_module.gateway import signature_for
from plugins.sms_module.models import SmsMessage
from tests.support_sms import ready_to_send


def accepted_message(shops, phone: str | None = None, body: str = "Votre auto est prete") -> int:
    """Accept a message for shop A's customer (optionally on another phone); return its id."""
    company, customer = ready_to_send(shops)
    if phone:
        customer = db.session.get(Customer, customer.id)
        customer.mobile_phone = phone
        db.session.commit()
    return services.request_send(company, customer=customer, body=body).id


def message(message_id: int) -> SmsMessage:
    db.session.expire_all()
    return db.session.get(SmsMessage, message_id)


def post_report(client, app, message_id, sid, status, token=None, **extra):
    """Post a delivery report signed like the carrier's."""
    path = f"/sms/twilio/status?message_id={message_id}"
    url = app.config["SMS_PUBLIC_BASE_URL"].rstrip("/") + path
    params = {"MessageSid": sid, "MessageStatus": status, **extra}
    signature = signature_for(token or app.config["SMS_SIMULATOR_AUTH_TOKEN"], url, params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature})
