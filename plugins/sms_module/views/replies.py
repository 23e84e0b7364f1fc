"""The reply page (PRODUCT.md §9): an inbox of the conversations customers answered, each
conversation with both sides and their statuses, and a reply box that sends through the
transactional queue (the sticky sender makes it leave from the number the customer wrote to).

A shop's staff and administrators see their shop's conversations only; the operator sees the
replies no shop's conversation answered (``company_id IS NULL``), read-only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import and_, case, func, select, update

from host.api import Company, Customer, Role, db, roles_required, utcnow
from plugins.sms_module.compliance import rules
from plugins.sms_module.conversations import inbound
from plugins.sms_module.models import Direction, Kind, Queue, SmsMessage, Source
from plugins.sms_module.sending import service
from plugins.sms_module.texts.preview import preview, status_label

bp = Blueprint("sms_replies", __name__, url_prefix="/sms/replies", template_folder="../templates")

E164 = re.compile(r"\+[1-9][0-9]{6,14}")
PER_PAGE = 50  # conversations per inbox page
MAX_PAGE = 10_000  # a page number past any real inbox: keeps the offset a sane integer
MAX_MESSAGES = 500  # the newest messages a conversation shows
EXCERPT = 80  # characters of the last message the inbox shows


@dataclass(frozen=True)
class Conversation:
    """One inbox row: a phone, who it is, its last message and its unread replies."""

    phone: str
    customer: Customer | None
    last: SmsMessage
    unread: int

    @property
    def name(self) -> str:
        return self.customer.full_name if self.customer is not None else self.phone

    @property
    def excerpt(self) -> str:
        return excerpt(self.last.body)


def excerpt(text: str, length: int = EXCERPT) -> str:
    """Return ``text`` on one line, shortened to ``length`` characters."""
    text = " ".join((text or "").split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


@bp.get("/")
@roles_required(Role.ADMIN, Role.STAFF)
def index():
    """Show the inbox: one row per phone that replied, newest conversation first."""
    company = _company()
    if company is not None and not rules.module_on(company.id):
        return _module_off("sms_module/replies.html", company)
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)
    conversations, more = _conversations(page)
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


def _conversations(page: int) -> tuple[list[Conversation], bool]:
    """Return a page of the inbox and whether older conversations follow (three queries)."""
    is_inbound = SmsMessage.direction == Direction.INBOUND
    unread = func.sum(case((and_(is_inbound, SmsMessage.read_at.is_(None)), 1), else_=0))
    replied = select(SmsMessage.phone).where(_owned(), is_inbound).distinct()
    last_id = func.max(SmsMessage.id)
    summary = (
        select(SmsMessage.phone, last_id.label("last_id"), unread.label("unread"))
        .where(_owned(), SmsMessage.phone.in_(replied))
        .group_by(SmsMessage.phone)
        .order_by(last_id.desc())
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE + 1)
        .subquery()
    )
    rows = db.session.execute(
        select(SmsMessage, summary.c.unread)
        .join(summary, SmsMessage.id == summary.c.last_id)
        .order_by(SmsMessage.id.desc())
    ).all()
    more = len(rows) > PER_PAGE
    rows = rows[:PER_PAGE]
    customers: dict[str, Customer] = {}
    if not current_user.is_operator and rows:
        found = db.session.scalars(
            select(Customer)
            .where(
                Customer.company_id == current_user.company_id,
                Customer.mobile_phone.in_([m.phone for m, _unread in rows]),
            )
            .order_by(Customer.id.desc())
        )
        customers = {c.mobile_phone: c for c in found}  # the lowest id wins, as in a send
    return [
        Conversation(m.phone, customers.get(m.phone), m, int(count or 0)) for m, count in rows
    ], more


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
    return render_template(
        "sms_module/conversation.html",
        **_alerts(company),
        company=company,
        phone=phone,
        customer=inbound.customer_for(company.id if company else None, phone),
        messages=list(reversed(newest[:MAX_MESSAGES])),
        truncated=len(newest) > MAX_MESSAGES,
        new_ids=new_ids,
        inbound=Kind.INBOUND,
        status_label=status_label,
        can_reply=company is not None,
        body=body,
        preview=preview(body)[0] if body else None,
    )


def _alerts(company: Company | None) -> dict:
    """Return what the pages' module alerts need (``rules.shop_state``); the operator, who
    reads the replies no shop's conversation took, has no shop to switch on."""
    if company is None:
        return {"shop": None, "module_on": True, "location_ok": True}
    return {"shop": company, **rules.shop_state(company).page_context()}


def _module_off(template: str, company: Company, phone: str | None = None, status: int = 200):
    return render_template(template, **_alerts(company), phone=phone), status
