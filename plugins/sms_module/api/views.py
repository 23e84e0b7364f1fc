"""The REST API (PRODUCT.md §12): per-shop bearer tokens, JSON in and out."""

from __future__ import annotations

from datetime import datetime
from functools import wraps

from flask import Blueprint, current_app, g, jsonify, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from host.api import Company, Customer, csrf, db, utcnow
from plugins.sms_module.api import inputs, tokens
from plugins.sms_module.api.openapi import SPEC
from plugins.sms_module.models import Kind, Queue, SmsMessage, Source
from plugins.sms_module.models.statuses import is_refusal
from plugins.sms_module.sending import service
from plugins.sms_module.texts.preview import preview
from plugins.sms_module.texts.reasons import english_failure

bp = Blueprint("sms_api", __name__, url_prefix="/api/v1")
# Programs authenticate with a token, not a browser session: CSRF does not apply.
csrf.exempt(bp)


def error(status: int, code: str, message: str, **extra):
    """Answer ``{"error": {"code", "message"}}`` with ``status``."""
    return jsonify(error={"code": code, "message": message, **extra}), status


def token_required(view):
    """Authenticate the shop from ``Authorization: Bearer <token>``."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        scheme, _sep, text = request.headers.get("Authorization", "").partition(" ")
        row = tokens.token_owner(text.strip()) if scheme.lower() == "bearer" else None
        if row is None:
            return error(401, "unauthorized", _("Give a valid shop token: Authorization: Bearer …"))
        row.last_used_at = utcnow()
        db.session.commit()
        g.api_company = db.session.get(Company, row.company_id)
        return view(*args, **kwargs)

    return wrapped


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException):
    """Answer an HTTP error in the API's shape; a body over ``MAX_CONTENT_LENGTH`` says the
    limit (413, issue 13 point 4)."""
    message = exc.description or ""
    if exc.code == 413:
        message = _(
            "The request is larger than %(limit)s bytes: send a shorter one.",
            limit=current_app.config.get("MAX_CONTENT_LENGTH"),
        )
    return error(exc.code or 500, exc.name.lower().replace(" ", "_"), message)


@bp.get("/openapi.json")
def openapi():
    """Serve the API's OpenAPI description."""
    return jsonify(SPEC)


@bp.post("/sms/messages")
@token_required
def create_message():
    """Accept an SMS for a customer of the token's shop."""
    company = g.api_company
    try:
        payload = inputs.json_object()
        key = inputs.idempotency_key()
        fields = _send_fields(payload)
    except inputs.BadInput as bad:
        return error(bad.status, bad.code, bad.message)
    body, customer_id, to, queue = (fields[k] for k in ("body", "customer_id", "to", "queue"))
    customer = None
    if customer_id is not None:
        customer = db.session.get(Customer, customer_id)
        if customer is None or customer.company_id != company.id:
            return error(404, "customer_not_found", _("No customer of this shop has this id."))
    fingerprint = inputs.fingerprint(fields)  # send_at as its UTC instant
    dedupe_key = f"api:{company.id}:{key}" if key else None
    if dedupe_key:
        existing = service.by_key(dedupe_key)
        if existing is not None:
            return _replay(existing, fingerprint)
    try:
        message, stored = service.accept(
            company,
            body=body,
            customer=customer,
            to=to,
            queue=queue,
            send_at=fields["send_at"],
            kind=Kind.API,
            source=Source.API,
            dedupe_key=dedupe_key,
            fingerprint=fingerprint,
        )
    except service.SendRefused as refused:
        extra = {"message_id": refused.message_id} if refused.message_id else {}
        return error(422, refused.code, refused.message, **extra)
    if not stored:  # another request won the key meanwhile: a replay, or a reused key
        return _replay(message, fingerprint)
    response = jsonify(created(message))
    response.status_code = 201
    response.headers["Location"] = url_for("sms_api.get_message", message_id=message.id)
    return response


@bp.get("/sms/messages/<int:message_id>")
@token_required
def get_message(message_id: int):
    """Show a message of the token's shop with its status history."""
    message = db.session.get(SmsMessage, message_id)
    if message is None or message.company_id != g.api_company.id:
        return error(404, "message_not_found", _("No message of this shop has this id."))
    return jsonify(
        {
            **created(message),
            "customer_id": message.customer_id,
            "phone": message.phone,
            "body": message.body,
            "queue": message.queue.value,
            "failure_code": message.failure_code,
            # The reason in English words, made from the stored code (issue 12, point 1).
            "failure_reason": english_failure(message),
            "refused": is_refusal(message.status, message.failure_code),
            "sender_number": message.sender_number,
            "attempts": message.attempts,
            "created_at": _iso(message.created_at),
            "history": [
                {"status": h.status.value, "at": _iso(h.at), "source": h.source, "detail": h.detail}
                for h in message.history
            ],
        }
    )


@bp.post("/sms/segments")
@token_required
def segments():
    """Count the segments and price of a text."""
    try:
        payload = inputs.json_object()
    except inputs.BadInput as bad:
        return error(bad.status, bad.code, bad.message)
    if not isinstance(payload.get("body"), str):
        return error(400, "invalid_body", _('Send {"body": "the text"}.'))
    result, status = preview(payload["body"])
    return jsonify(result), status


def _send_fields(payload: dict) -> dict:
    """Check the shape of a send request; return its fields (``send_at`` read as a
    ``datetime``, ``queue`` defaulted). Raises ``inputs.BadInput`` (400) for a wrong type,
    an id out of range, a date outside the years the API takes, a ``to`` over 40
    characters."""
    body, customer_id, to = payload.get("body"), payload.get("customer_id"), payload.get("to")
    queue = payload.get("queue", Queue.TRANSACTIONAL.value)
    if not isinstance(body, str):
        raise inputs.BadInput(400, "invalid_body", _("body is the text of the message, a string."))
    if (customer_id is None) == (to is None):
        raise inputs.BadInput(400, "invalid_recipient", _("Give customer_id or to, not both."))
    if customer_id is not None:
        inputs.database_id(customer_id, "customer_id")
    if to is not None and (not isinstance(to, str) or len(to) > 40):
        raise inputs.BadInput(
            400, "invalid_to", _("to is a phone number, as a string of 40 characters at most.")
        )
    if not isinstance(queue, str):
        raise inputs.BadInput(400, "invalid_queue", _("queue is transactional or promotional."))
    send_at = payload.get("send_at")
    when = inputs.date_time(send_at, "send_at") if send_at is not None else None
    return {"body": body, "customer_id": customer_id, "to": to, "queue": queue, "send_at": when}


def _replay(existing: SmsMessage, fingerprint: str):
    """Answer a replayed Idempotency-Key: the first message (200) if the request is the
    same, else 422 ``idempotency_key_reused`` (a key names one request, IETF
    draft-ietf-httpapi-idempotency-key-header §2.2). A message stored before fingerprints
    (``None``) is taken as the same."""
    if existing.request_fingerprint not in (None, fingerprint):
        return error(
            422,
            "idempotency_key_reused",
            _("This Idempotency-Key was used for a different request: use a new key."),
        )
    return jsonify(created(existing)), 200


def created(message: SmsMessage) -> dict:
    """Return the short description of an accepted message."""
    result = {
        "id": message.id,
        "status": message.status.value,
        "segments": message.segments,
        "encoding": message.encoding,
        "price": format(message.price, "f"),
        "currency": message.currency,
    }
    if message.send_at is not None:
        result["send_at"] = _iso(message.send_at)
    return result


def _iso(value: datetime) -> str:
    """Format a stored time as ISO 8601 with its UTC offset."""
    return value.isoformat()
