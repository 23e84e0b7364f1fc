"""The reply page (PRODUCT.md §9): an inbox of the conversations customers answered, each
conversation with both sides and their statuses, and a reply box that sends through the
transactional queue (the sticky sender makes it leave from the number the customer wrote to).

A reply that asks to stop the SMS in other words than a keyword ("please don't text me
anymore") is flagged, not acted on (``compliance.keywords``): the shop reads it and may opt
the phone out from the conversation (issue 11; FCC 47 CFR 64.1200(a)(10), "any reasonable
means"). The flag stays until the shop answers or the phone's opt-out changes, whatever the
customer writes next (``inbox.pending_look_alikes``). What the inbox shows of each
conversation is in ``views.inbox``.

A shop's staff and administrators see their shop's conversations only; the operator sees the
replies no shop's conversation answered (``company_id IS NULL``), read-only.

A reply whose forward by e-mail finally failed says so, why and when, with what became of
its SMS to the shop's cell if one went (issue 15, point 5).
"""

from __future__ import annotations

import re

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select, update

from host.api import Company, Role, db, roles_required, utcnow
from plugins.sms_module.compliance import opt_out, rules
from plugins.sms_module.conversations import answers, forwarding, inbound
from plugins.sms_module.models import Direction, Kind, Queue, SmsMessage, Source
from plugins.sms_module.sending import service
from plugins.sms_module.texts.labels import forward_failure_text
from plugins.sms_module.texts.preview import preview, status_label
from plugins.sms_module.texts.reasons import failure_text
from plugins.sms_module.views import inbox

bp = Blueprint("sms_replies", __name__, url_prefix="/sms/replies", template_folder="../templates")

E164 = re.compile(r"\+[1-9][0-9]{6,14}")
PER_PAGE = 50  # conversations per inbox page
MAX_PAGE = 10_000  # a page number past any real inbox: keeps the offset a sane integer
MAX_MESSAGES = 500  # the newest messages a conversation shows


@bp.get("/")
@roles_required(Role.ADMIN, Role.STAFF)
def index():
    """Show the inbox: one row per phone that replied, newest conversation first."""
    company = _company()
    if company is not None and not rules.module_on(company.id):
        return _module_off("sms_module/replies.html", company)
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)
    conversations, more = inbox.conversations(
        _owned(), None if current_user.is_operator else current_user.company_id, page, PER_PAGE
    )
    return render_template(
        "sms_module/replies.html",
        **_alerts(company),
        company=company,
        conversations=conversations,
        page=page,
        more=more,
    )


@bp.get("/<phone>")
@roles_required(Role.ADMIN, Role.STAFF)
def show(phone: str):
    """Show the conversation with ``phone`` and mark its replies read."""
    _conversation_or_404(phone)
    company = _company()
    if company is not None and not rules.module_on(company.id):
        return _module_off("sms_module/conversation.html", company, phone=phone)
    return _render(company, phone, body="")


@bp.post("/<phone>")
@roles_required(Role.ADMIN, Role.STAFF)
def reply(phone: str):
    """Send staff's reply to ``phone`` through the transactional queue."""
    if current_user.is_operator:
        abort(403)  # the operator reads the unrouted replies; only a shop answers a customer
    _conversation_or_404(phone)
    company = _company()
    if not rules.module_on(company.id):
        return _module_off("sms_module/conversation.html", company, phone=phone, status=422)
    body = request.form.get("body", "")
    customer = inbound.customer_for(company.id, phone)
    recipient = {"customer": customer} if customer is not None else {"to": phone}
    try:
        service.request_send(
            company,
            body=body,
            queue=Queue.TRANSACTIONAL,
            kind=Kind.REPLY,
            source=Source.STAFF,
            user_id=current_user.id,
            **recipient,
        )
    except service.SendRefused as refused:
        flash(refused.message, "error")
        return _render(company, phone, body=body), 422
    flash(_("Your reply is scheduled: it leaves from the number the customer wrote to."))
    return redirect(url_for("sms_replies.show", phone=phone), code=303)


@bp.post("/<phone>/opt-out")
@roles_required(Role.ADMIN, Role.STAFF)
def opt_out_phone(phone: str):
    """Put ``phone`` on the opt-out list for a reply that asked it in other words (flagged)."""
    if current_user.is_operator:
        abort(403)  # only a shop answers its customers, and this sends the STOP confirmation
    _conversation_or_404(phone)
    company = _company()
    customer = inbound.customer_for(company.id, phone)
    # The event keeps the text that asked (the newest pending look-alike), not a later "?".
    pending = inbox.pending_look_alikes(_owned(), [phone]).get(phone)
    asked = db.session.get(SmsMessage, max(pending)).body if pending else None
    if answers.opt_out_on_request(company, customer, phone, current_user.id, raw=asked) is None:
        flash(_("This phone is already opted out."))
    else:
        flash(_("The phone is opted out: no shop will text it until it replies START."))
    return redirect(url_for("sms_replies.show", phone=phone), code=303)


# Queries ---------------------------------------------------------------------------------


def _company() -> Company | None:
    """Return the user's shop; None for the operator (the unrouted replies)."""
    return None if current_user.is_operator else current_user.company


def _owned():
    """The messages the user may see: their shop's, or the unrouted ones for the operator."""
    if current_user.is_operator:
        return SmsMessage.company_id.is_(None)
    return SmsMessage.company_id == current_user.company_id


def _conversation_or_404(phone: str) -> None:
    """404 unless ``phone`` is an E.164 number with messages the user may see."""
    if not E164.fullmatch(phone):
        abort(404)
    found = db.session.scalar(
        select(SmsMessage.id).where(_owned(), SmsMessage.phone == phone).limit(1)
    )
    if found is None:
        abort(404)


def _mark_read(phone: str) -> set[int]:
    """Mark the unread replies of ``phone`` read (commits); return their ids."""
    ids = set(
        db.session.scalars(
            select(SmsMessage.id).where(
                _owned(),
                SmsMessage.phone == phone,
                SmsMessage.direction == Direction.INBOUND,
                SmsMessage.read_at.is_(None),
            )
        )
    )
    if ids:
        db.session.execute(
            update(SmsMessage)
            .where(SmsMessage.id.in_(ids), SmsMessage.read_at.is_(None))
            .values(read_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
    return ids


def _render(company: Company | None, phone: str, body: str):
    new_ids = _mark_read(phone)
    newest = db.session.scalars(
        select(SmsMessage)
        .where(_owned(), SmsMessage.phone == phone)
        .order_by(SmsMessage.id.desc())
        .limit(MAX_MESSAGES + 1)
    ).all()
    messages = list(reversed(newest[:MAX_MESSAGES]))
    replies = [m for m in messages if m.direction == Direction.INBOUND]
    opted_out = opt_out.is_opted_out(phone)
    flagged = inbox.pending_look_alikes(_owned(), [phone]).get(phone, set())
    return render_template(
        "sms_module/conversation.html",
        **_alerts(company),
        company=company,
        phone=phone,
        customer=inbound.customer_for(company.id if company else None, phone),
        messages=messages,
        flagged=flagged,  # the look-alikes still pending: the notice above the thread
        handled_flags=inbox.flags(replies) - flagged,  # answered, or the phone's list moved
        opted_out=opted_out,
        ask_to_stop=not opted_out and bool(flagged),
        truncated=len(newest) > MAX_MESSAGES,
        new_ids=new_ids,
        inbound=Kind.INBOUND,
        status_label=status_label,
        failure_text=failure_text,  # why, in the reader's words, never a code (issue 12)
        forward_failure_text=forward_failure_text,
        cell_forwards=_cell_forwards(replies),
        can_reply=company is not None,
        body=body,
        preview=preview(body)[0] if body else None,
    )


def _cell_forwards(replies: list[SmsMessage]) -> dict[int, SmsMessage]:
    """Return, by reply id, the SMS to the shop's cell about each reply whose e-mail forward
    failed (its own forward, or the digest it led): what did reach the shop."""
    keys = {
        key: reply.id
        for reply in replies
        if reply.forward_failed_at is not None
        for key in forwarding.cell_forward_keys(reply.id)
    }
    if not keys:
        return {}
    found = db.session.scalars(select(SmsMessage).where(_owned(), SmsMessage.dedupe_key.in_(keys)))
    return {keys[sms.dedupe_key]: sms for sms in found}


def _alerts(company: Company | None) -> dict:
    """Return what the pages' module alerts need (``rules.shop_state``); the operator, who
    reads the replies no shop's conversation took, has no shop to switch on: every flag is
    given as fine, whatever shop the operator picked (issue 12 review, point 3)."""
    if company is None:
        return {"shop": None, "module_on": True, "location_ok": True, "v2v_ok": True}
    return {"shop": company, **rules.shop_state(company).page_context()}


def _module_off(template: str, company: Company, phone: str | None = None, status: int = 200):
    return render_template(template, **_alerts(company), phone=phone), status
