"""The carrier's webhooks: delivery reports (``POST /sms/twilio/status``) and customers'
SMS (``POST /sms/twilio/inbound``), both signed by the carrier."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, current_app, request

from host.api import csrf
from plugins.sms_module.carriers.webhooks import id_param, local_status, signature_valid
from plugins.sms_module.conversations import inbound
from plugins.sms_module.sending import delivery_reports

bp = Blueprint("sms_webhooks", __name__, url_prefix="/sms/twilio")
# The carrier signs its requests (X-Twilio-Signature); it has no CSRF token.
csrf.exempt(bp)
log = logging.getLogger(__name__)


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
    form = request.form
    delivery_reports.record_report(
        form.get("MessageSid", ""),
        id_param(request.args.get("message_id")),
        local_status(form.get("MessageStatus", "")),
        form.get("MessageStatus"),
        form.get("ErrorCode") or None,
        form.get("ErrorMessage") or None,
    )
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
    except inbound.UnstorableInbound as error:
        # Not an SMS of ours (a WhatsApp sender, a SID longer than Twilio's): answered, so
        # the carrier does not retry it, and logged.
        log.warning("inbound request ignored: %s", error)
    except inbound.InvalidInbound as error:
        return {"error": {"code": "invalid_inbound", "message": str(error)}}, 400
    return Response(EMPTY_TWIML, mimetype="text/xml")
