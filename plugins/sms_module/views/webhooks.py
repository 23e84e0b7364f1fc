"""The carrier's webhooks: delivery reports (``POST /sms/twilio/status``) and customers'
SMS (``POST /sms/twilio/inbound``), both signed by the carrier."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, current_app, request
from sqlalchemy import select

from host.extensions import csrf, db
from plugins.sms_module import inbound, lifecycle, opt_out, pipeline
from plugins.sms_module.gateway import local_status, signature_valid
from plugins.sms_module.models import SmsMessage
from plugins.sms_module.statuses import Status

bp = Blueprint("sms_webhooks", __name__, url_prefix="/sms/twilio")
# The carrier signs its requests (X-Twilio-Signature); it has no CSRF token.
csrf.exempt(bp)
log = logging.getLogger(__name__)

UNSUBSCRIBED = "21610"


def auth_token() -> str:
    """Return the token the current provider signs its requests with."""
    config = current_app.config
    if config["SMS_PROVIDER"] == "twilio":
        return config["TWILIO_AUTH_TOKEN"] or ""
    return config["SMS_SIMULATOR_AUTH_TOKEN"]


def check_signature() -> None:
    """Refuse (403) a request not signed for our public address."""
    url = current_app.config["SMS_PUBLIC_BASE_URL"].rstrip("/") + request.full_path.rstrip("?")
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature or not signature_valid(auth_token(), url, request.form.to_dict(), signature):
        abort(403)


@bp.post("/status")
def status():
    """Record a delivery report; never move a message backwards."""
    check_signature()
    sid = request.form.get("MessageSid", "")
    reported = local_status(request.form.get("MessageStatus", ""))
    message = (
        db.session.scalar(
            select(SmsMessage).where(SmsMessage.provider_sid == sid).with_for_update()
        )
        if sid
        else None
    )
    if message is None and request.args.get("message_id", "").isdigit():
        # The report may overtake our own record of the SID: our id is in the URL.
        message = db.session.scalar(
            select(SmsMessage)
            .where(
                SmsMessage.id == int(request.args["message_id"]), SmsMessage.provider_sid.is_(None)
            )
            .with_for_update()
        )
        if message is not None:
            message.provider_sid = sid
    if message is None or reported is None:
        log.info("status report for unknown message %r (%r) ignored", sid, reported)
        return "", 200
    error_code = request.form.get("ErrorCode") or None
    if reported in (Status.FAILED, Status.UNDELIVERED) and error_code:
        message.failure_code = error_code
        message.failure_reason = request.form.get("ErrorMessage") or f"carrier error {error_code}"
        if error_code == UNSUBSCRIBED:
            opt_out.opt_out(message.phone, "provider_error", message.company_id, error_code)
    if message.status in (Status.SCHEDULED, Status.QUEUED):
        lifecycle.move(message, Status.SENDING, "provider_callback")
    lifecycle.move(message, reported, "provider_callback", request.form.get("MessageStatus"))
    db.session.commit()
    if reported != Status.SENDING:
        pipeline.forget_job(message.id)
    return "", 200


# An empty TwiML answer: the module answers keywords itself, through its queue.
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@bp.post("/inbound")
def receive():
    """Keep a customer's SMS, route it to its shop, act on STOP / START / HELP."""
    check_signature()
    form = request.form
    try:
        inbound.receive(
            form.get("MessageSid") or form.get("SmsMessageSid") or form.get("SmsSid", ""),
            form.get("From", ""),
            form.get("To", ""),
            form.get("Body", ""),
        )
    except inbound.InvalidInbound as error:
        return {"error": {"code": "invalid_inbound", "message": str(error)}}, 400
    return Response(EMPTY_TWIML, mimetype="text/xml")
