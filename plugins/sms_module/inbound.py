"""Customers' replies (PRODUCT.md §9) and the keywords STOP, START and HELP (§5).

An inbound SMS is kept once (by the carrier's SID) and routed to the shop whose
conversation it answers: the last message sent to that phone from the number it was
written to. A keyword acts on the platform-wide opt-out list and is answered from that
same number; any other reply is forwarded, by e-mail and/or SMS as the shop's settings
say, after the commit, by a job the sweeper re-enqueues if it was lost. Replies nobody
could route go to the operator.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from urllib.parse import quote

from flask import current_app
from rq import get_current_job
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from host.extensions import db
from host.models import Company, Customer, utcnow
from host.redis_connection import get_queue, get_redis
from plugins.sms_module import dispatch, lifecycle, opt_out, services
from plugins.sms_module.models import Conversation, Queue, SenderNumber, ShopSmsSettings, SmsMessage
from plugins.sms_module.segments import count_segments
from plugins.sms_module.statuses import Status

log = logging.getLogger(__name__)

INBOUND = "inbound"
# Outbound kinds this module writes itself.
KEYWORD_ANSWER = "keyword_answer"  # the answer to STOP, START or HELP: from the number written to
REPLY = "reply"  # staff's answer from the reply page
FORWARD = "reply_forward"  # a reply forwarded to the shop's cell number
# What a reply shows of itself in a forward by SMS.
FORWARD_EXCERPT = 300
FORWARD_LEASE_SECONDS = 120
# When a forward that failed (the SMTP server away) is tried again, in seconds.
FORWARD_RETRIES = [30, 120, 600, 1800, 3600]
# Statuses of an outbound message that reached (or was on its way to) the carrier.
WENT_OUT = (Status.SENDING, Status.SENT, Status.DELIVERED, Status.UNDELIVERED)


class InvalidInbound(ValueError):
    """The carrier's request lacks what an inbound SMS needs."""


@dataclass(frozen=True)
class Received:
    """What ``receive`` did: the message kept, and the keyword it carried, if any."""

    message: SmsMessage
    keyword: str | None
    duplicate: bool = False


def receive(sid: str, phone: str, number: str, body: str) -> Received:
    """Keep the inbound SMS ``sid`` from ``phone`` to our ``number`` once, route it, act on a
    keyword; commit. A SID already kept is a repeated delivery: nothing happens again."""
    sid, phone, number = (sid or "").strip(), (phone or "").strip(), (number or "").strip()
    if not sid or not phone or not number:
        raise InvalidInbound("An inbound SMS needs MessageSid, From and To.")
    body = body or ""
    existing = _by_sid(sid)
    if existing is not None:
        return Received(existing, None, duplicate=True)
    company_id = route(phone, number)
    customer = customer_for(company_id, phone)
    message = SmsMessage(
        company_id=company_id,
        customer_id=customer.id if customer else None,
        direction=INBOUND,
        kind=INBOUND,
        phone=phone,
        body=body,
        queue=_queue_of(number),
        sender_number=number,
        provider_sid=sid,
        segments=_segments(body),
    )
    lifecycle.start(message, Status.RECEIVING, "provider_callback")
    lifecycle.move(message, Status.RECEIVED, "provider_callback", f"to {number}")
    word = opt_out.classify(body, opt_out.is_opted_out(phone))
    answer = None
    if word == "stop":
        opt_out.opt_out(phone, "sms_keyword", company_id, body)
    elif word == "start":
        opt_out.opt_in(phone, "sms_keyword", company_id, body)
    if word is not None:
        company = db.session.get(Company, company_id) if company_id else None
        answer = _answer(company, customer, phone, number, word)
        message.forwarded_at = utcnow()  # a keyword is handled here: nothing to forward
    db.session.add(message)
    if answer is not None:
        db.session.add(answer)
    try:
        db.session.commit()
    except IntegrityError:
        # The carrier delivered the same SMS twice at the same moment: the other one kept it.
        db.session.rollback()
        existing = _by_sid(sid)
        if existing is None:
            raise
        return Received(existing, None, duplicate=True)
    if answer is not None:
        dispatch.message_scheduled(answer.id)
    else:
        enqueue_forward(message.id)
    return Received(message, word)


def route(phone: str, number: str) -> int | None:
    """Return the shop whose conversation a reply from ``phone`` to ``number`` answers: the
    shop of the last message sent to that phone from that number; None when there is none."""
    company_id = db.session.scalar(
        select(SmsMessage.company_id)
        .where(
            SmsMessage.phone == phone,
            SmsMessage.sender_number == number,
            SmsMessage.direction != INBOUND,
            SmsMessage.company_id.is_not(None),
            SmsMessage.status.in_(WENT_OUT),
        )
        .order_by(SmsMessage.id.desc())
        .limit(1)
    )
    if company_id is not None:
        return company_id
    # A conversation started, its first message not gone yet.
    return db.session.scalar(
        select(Conversation.company_id)
        .join(SenderNumber, SenderNumber.id == Conversation.sender_number_id)
        .where(Conversation.phone == phone, SenderNumber.number == number)
        .order_by(Conversation.last_message_at.desc())
        .limit(1)
    )


def _by_sid(sid: str) -> SmsMessage | None:
    return db.session.scalar(select(SmsMessage).where(SmsMessage.provider_sid == sid))


def customer_for(company_id: int | None, phone: str) -> Customer | None:
    """Return the shop's customer with that mobile phone (the first, as a send to it takes)."""
    if company_id is None:
        return None
    return db.session.scalar(
        select(Customer)
        .where(Customer.company_id == company_id, Customer.mobile_phone == phone)
        .order_by(Customer.id)
        .limit(1)
    )


def _queue_of(number: str) -> Queue:
    queue = db.session.scalar(select(SenderNumber.queue).where(SenderNumber.number == number))
    return queue or Queue.TRANSACTIONAL


def _segments(body: str) -> int:
    try:
        return count_segments(body).segments
    except ValueError:  # longer than we would send: the carrier joined many parts
        return 0


def answer_text(word: str, company: Company | None, language: str | None) -> str:
    """Return the answer to STOP, START or HELP, in the shop's language (both when unknown)."""
    name = company.name.strip() if company is not None else None
    english = {
        "stop": "You are unsubscribed and will receive no more SMS from us. Reply START to "
        "subscribe again.",
        "start": "You are subscribed again. Reply STOP to unsubscribe.",
        "help": (f"{name}: " if name else "")
        + "SMS about your appointments, vehicle and invoices. Reply STOP to unsubscribe.",
    }[word]
    french = {
        "stop": "Vous êtes désabonné et ne recevrez plus de textos de notre part. Répondez "
        "DEBUT pour vous réabonner.",
        "start": "Vous êtes réabonné. Répondez ARRET pour vous désabonner.",
        "help": (f"{name} : " if name else "")
        + "textos au sujet de vos rendez-vous, de votre véhicule et de vos factures. "
        "Répondez ARRET pour vous désabonner.",
    }[word]
    if language == "fr":
        return french
    if language == "en":
        return english
    return f"{english} / {french}"


def _answer(company, customer, phone: str, number: str, word: str) -> SmsMessage:
    from plugins.sms_module import message_templates as templates

    language = templates.message_language(customer, company) if company else None
    message = services.new_message(
        company,
        customer,
        phone,
        answer_text(word, company, language),
        KEYWORD_ANSWER,
        utcnow(),
        Queue.TRANSACTIONAL,
    )
    message.sender_number = number  # answered from the number the phone wrote to
    lifecycle.start(message, Status.ACCEPTED, "module", f"answer to {word.upper()}")
    lifecycle.move(message, Status.SCHEDULED, "module")
    return message


# Forwarding ------------------------------------------------------------------------------


def forward_job_id(message_id: int) -> str:
    return f"sms-forward-{message_id}"


def enqueue_forward(message_id: int) -> None:
    """Put the reply's forward on the transactional queue, once; an SMTP server that cannot
    be reached is tried again later (``FORWARD_RETRIES``), and the sweeper puts back a
    forward that Redis lost."""
    from rq import Retry

    try:
        get_queue(Queue.TRANSACTIONAL.value).enqueue(
            forward,
            message_id,
            job_id=forward_job_id(message_id),
            result_ttl=300,
            failure_ttl=7 * 24 * 3600,  # a forward given up on stays on record for a week
            retry=Retry(max=len(FORWARD_RETRIES), interval=FORWARD_RETRIES),
        )
    except Exception:  # Redis away: the reply is kept; the sweeper forwards it later
        log.warning("could not enqueue the forward of reply %s", message_id, exc_info=True)


def reply_page_url(phone: str) -> str:
    """Return the address of the conversation with ``phone`` on the reply page."""
    base = current_app.config["SMS_PUBLIC_BASE_URL"].rstrip("/")
    return f"{base}/sms/replies/{quote(phone)}"


def forward(message_id: int) -> str:
    """Job: forward a reply as its shop's settings say (the operator's for an unrouted one)."""
    redis = get_redis()
    lease = f"sms:forward:{message_id}"
    if not redis.set(lease, 1, nx=True, ex=FORWARD_LEASE_SECONDS):
        return "another worker holds it"
    try:
        message = db.session.get(SmsMessage, message_id)
        if message is None or message.direction != INBOUND or message.forwarded_at is not None:
            return "nothing to do"
        emails, cell = destinations(message.company_id)
        done = []
        # The SMS first: it is sent once whatever happens (its dedupe key), so a retry after
        # an e-mail that failed does not send it again.
        if cell and message.company_id is not None:
            done.append(_forward_by_sms(message, cell))
        if emails:
            done.append(_forward_by_email(message, emails))
        message = db.session.get(SmsMessage, message_id)
        message.forwarded_at = utcnow()
        db.session.commit()
        return ", ".join(done) or "kept on the reply page"
    finally:
        redis.delete(lease)


def destinations(company_id: int | None) -> tuple[list[str], str | None]:
    """Return the e-mail addresses and the cell number a shop's replies go to."""
    if company_id is None:
        return list(current_app.config.get("SMS_OPERATOR_EMAILS") or []), None
    settings = db.session.get(ShopSmsSettings, company_id)
    if settings is None:
        return [], None
    return split_emails(settings.forward_emails or ""), settings.forward_phone or None


def split_emails(text: str) -> list[str]:
    """Return the addresses of a comma-, semicolon- or line-separated list."""
    for separator in ";\n\r":
        text = text.replace(separator, ",")
    return [part.strip() for part in text.split(",") if part.strip()]


def sender_label(message: SmsMessage) -> str:
    customer = message.customer
    return f"{customer.full_name} ({message.phone})" if customer is not None else message.phone


def _forward_by_email(message: SmsMessage, emails: list[str]) -> str:
    from host.mail import MailNotConfigured, send_mail

    who = sender_label(message)
    body = (
        f"{who} replied by SMS to {message.sender_number}:\n\n"
        f"{message.body}\n\n"
        "Do not reply to this e-mail: the customer would not receive your answer.\n"
        f"Answer from the reply page: {reply_page_url(message.phone)}\n"
    )
    try:
        send_mail(emails, f"SMS reply from {who}", body)
    except MailNotConfigured:
        log.warning("reply %s not e-mailed: SMTP_HOST is not set", message.id)
        return "no SMTP server for the e-mail"
    except (smtplib.SMTPException, OSError) as error:
        job = get_current_job()
        if job is not None and job.retries_left:
            raise  # the SMTP server may come back: RQ tries again later
        log.error("reply %s not e-mailed, given up: %s", message.id, error)
        return f"not e-mailed: {error}"
    return "e-mailed"


def _forward_by_sms(message: SmsMessage, cell: str) -> str:
    company = db.session.get(Company, message.company_id)
    text = message.body
    if len(text) > FORWARD_EXCERPT:
        text = text[: FORWARD_EXCERPT - 1] + "…"
    body = (
        f"SMS from {sender_label(message)}: {text}\n"
        f"Do not answer this SMS; reply on {reply_page_url(message.phone)}"
    )
    try:
        services.request_send(
            company,
            to=cell,
            body=body,
            kind=FORWARD,
            source="module",
            dedupe_key=f"forward:{message.id}",
            system=True,
        )
    except services.SendRefused as refused:
        log.warning("reply %s not forwarded by SMS: %s", message.id, refused.message)
        return f"not sent by SMS: {refused.code}"
    return "sent by SMS"


def unforwarded(grace_seconds: float, limit: int = 200) -> list[int]:
    """Return replies older than ``grace_seconds`` whose forward has not run."""
    from datetime import timedelta

    return list(
        db.session.scalars(
            select(SmsMessage.id)
            .where(
                SmsMessage.direction == INBOUND,
                SmsMessage.forwarded_at.is_(None),
                SmsMessage.created_at < utcnow() - timedelta(seconds=grace_seconds),
            )
            .order_by(SmsMessage.id)
            .limit(limit)
        )
    )


def sweep_forwards(grace_seconds: float) -> int:
    """Re-enqueue the forwards that were lost (Redis emptied, a process died)."""
    from rq.job import Job

    waiting = unforwarded(grace_seconds)
    db.session.commit()
    if not waiting:
        return 0
    pipe = get_redis().pipeline(transaction=False)
    for message_id in waiting:
        pipe.exists(Job.key_for(forward_job_id(message_id)))
    # A job that exists is on its way or waiting for a retry: only the lost ones go again.
    lost = [m for m, found in zip(waiting, pipe.execute(), strict=True) if not found]
    for message_id in lost:
        enqueue_forward(message_id)
    return len(lost)
