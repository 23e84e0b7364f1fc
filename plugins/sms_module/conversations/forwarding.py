"""Forwarding customers' replies to the shop (PRODUCT.md §9), by e-mail and/or SMS.

A reply's forward runs as a job on the mail queue (``mail_jobs``: no SMS send waits behind
a slow SMTP server), given by the sweeper to every committed reply that has none, within a
second (``sweep_forwards``: the reply's row is the outbox, so the webhook answers the
carrier without touching Redis, and a job Redis lost is given again; issue 14); an SMTP
server that cannot be reached is tried again later (``FORWARD_RETRIES``). A forward whose
e-mail finally fails is recorded as failed (``forward_failed_at``, ``forward_error``), never
as forwarded, also when its SMS to the shop's cell went (issue 15, point 5).
The forward says not to answer it and links to the reply page. The e-mail goes at once; the
SMS to the shop's cell keeps the quiet hours like every SMS (``compliance.quiet_hours``): a
reply that comes at night reaches the cell at the end of the shop's night (issue 11).
Beyond ``SMS_FORWARDS_PER_HOUR`` replies of one phone in an hour, the forwards are held and
sent as one digest at the end of the hour (``limits``, ``digest``: issue 13).
"""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta
from urllib.parse import quote

from flask import current_app
from rq.job import Job
from sqlalchemy import select

from host.api import Company, MailNotConfigured, db, get_queue, get_redis, send_mail, utcnow
from plugins.sms_module.compliance import quiet_hours
from plugins.sms_module.conversations import limits, mail_jobs
from plugins.sms_module.models import Direction, Kind, ShopSmsSettings, SmsMessage, Source
from plugins.sms_module.sending import service

log = logging.getLogger(__name__)

# What a reply shows of itself in a forward by SMS.
FORWARD_EXCERPT = 300
FORWARD_LEASE_SECONDS = 120
# When a forward that failed (the SMTP server away) is tried again, in seconds.
FORWARD_RETRIES = mail_jobs.RETRIES
# The RQ entry point (``plugins.sms_module.jobs``): jobs in Redis keep this path.
FORWARD_FUNCTION = "plugins.sms_module.jobs.forward_reply"


def forward_job_id(message_id: int) -> str:
    """Return the RQ job id of reply ``message_id``'s forward (one forward per reply)."""
    return f"sms-forward-{message_id}"


def enqueue_forward(message_id: int) -> None:
    """Put the reply's forward on the mail queue (``mail_jobs.MAIL_QUEUE``), once; an SMTP
    server that cannot be reached is tried again later (``FORWARD_RETRIES``), and the sweeper
    puts back a forward that Redis lost."""
    try:
        get_queue(mail_jobs.MAIL_QUEUE).enqueue(
            FORWARD_FUNCTION,
            message_id,
            job_id=forward_job_id(message_id),
            job_timeout=mail_jobs.JOB_TIMEOUT,
            result_ttl=300,
            failure_ttl=7 * 24 * 3600,  # a forward given up on stays on record for a week
            retry=mail_jobs.retry(),
            rate_limit=mail_jobs.rate_limit(),
        )
    except Exception:  # Redis away: the reply is kept; the sweeper forwards it later
        log.warning("could not enqueue the forward of reply %s", message_id, exc_info=True)


def reply_page_url(phone: str) -> str:
    """Return the address of the conversation with ``phone`` on the reply page."""
    base = current_app.config["SMS_PUBLIC_BASE_URL"].rstrip("/")
    return f"{base}/sms/replies/{quote(phone)}"


def forward(message_id: int) -> str:
    """Job: forward a reply as its shop's settings say (the operator's for an unrouted one);
    return what was done. Raises what ``send_mail`` raised while RQ will try again; after
    the last try the reply is marked failed (``mail_jobs.record_failure``)."""
    redis = get_redis()
    lease = f"sms:forward:{message_id}"
    if not redis.set(lease, 1, nx=True, ex=FORWARD_LEASE_SECONDS):
        return "another worker holds it"
    try:
        message = db.session.get(SmsMessage, message_id)
        if (
            message is None
            or message.direction != Direction.INBOUND
            or message.forwarded_at is not None
            or message.forward_failed_at is not None
        ):
            return "nothing to do"
        alone, wait = limits.forward_turn(message.company_id, message.phone, message.id)
        if not alone:  # over the hour's limit: kept on the reply page, forwarded in a digest
            limits.hold(message, wait)
            message.forwarded_at = utcnow()
            db.session.commit()
            return "held for the digest"
        emails, cell = destinations(message.company_id)
        done = []
        # The SMS first: it is sent once whatever happens (its dedupe key), so a retry after
        # an e-mail that failed does not send it again.
        if cell and message.company_id is not None:
            done.append(_forward_by_sms(message, cell))
        failed = _forward_by_email(message, emails) if emails else None
        if emails:
            done.append(f"not e-mailed: {failed}" if failed else "e-mailed")
        message = db.session.get(SmsMessage, message_id)
        if failed:  # the SMS to the cell, if any, went: the reply page says both
            mail_jobs.record_failure([message], failed)
        else:
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
    """Return who wrote a reply: the customer's name and phone, or the phone alone."""
    customer = message.customer
    return f"{customer.full_name} ({message.phone})" if customer is not None else message.phone


def _forward_by_email(message: SmsMessage, emails: list[str]) -> str | None:
    """E-mail the reply to ``emails``; return None once sent, else the code it finally
    failed for (``mail_jobs.CODES``). Raises while RQ will try the job again."""
    who = sender_label(message)
    body = (
        f"{who} replied by SMS to {message.sender_number}:\n\n"
        f"{message.body}\n\n"
        "Do not reply to this e-mail: the customer would not receive your answer.\n"
        f"Answer from the reply page: {reply_page_url(message.phone)}\n"
    )
    try:
        send_mail(emails, f"SMS reply from {who}", body)
    except MailNotConfigured as error:
        log.warning("reply %s not e-mailed: SMTP_HOST is not set", message.id)
        return mail_jobs.error_code(error)
    except (smtplib.SMTPException, OSError) as error:
        if mail_jobs.retried_later():
            raise  # the SMTP server may come back: RQ tries again later
        log.error("reply %s not e-mailed, given up: %s", message.id, error)
        return mail_jobs.error_code(error)
    return None


def _forward_by_sms(message: SmsMessage, cell: str) -> str:
    """Schedule the forward to the shop's ``cell``: now, or at the end of the shop's night."""
    text = message.body
    if len(text) > FORWARD_EXCERPT:
        text = text[: FORWARD_EXCERPT - 1] + "…"
    body = (
        f"SMS from {sender_label(message)}: {text}\n"
        f"Do not answer this SMS; reply on {reply_page_url(message.phone)}"
    )
    company = db.session.get(Company, message.company_id)
    return send_to_cell(company, cell, body, cell_forward_keys(message.id)[0])


def cell_forward_keys(reply_id: int) -> tuple[str, str]:
    """Return the idempotency keys of the SMS to the shop's cell about reply ``reply_id``:
    its own forward's, and its digest's (a digest is keyed by its first reply)."""
    return f"forward:{reply_id}", f"forward-digest:{reply_id}"


def send_to_cell(company: Company, cell: str, body: str, key: str) -> str:
    """Schedule ``body`` to the shop's own ``cell`` (no customer consent: the shop's staff),
    now or at the end of the shop's night; return what happened, for the job's result."""
    now = utcnow()
    due = quiet_hours.next_morning(now, company)
    try:
        service.request_send(
            company,
            to=cell,
            body=body,
            kind=Kind.REPLY_FORWARD,
            source=Source.MODULE,
            dedupe_key=key,
            system=True,
            send_at=due,
        )
    except service.SendRefused as refused:
        log.warning("%s not sent by SMS to the shop's cell: %s", key, refused.message)
        return f"not sent by SMS: {refused.code}"
    return "sent by SMS" if due <= now else f"SMS due at {due.isoformat()} (quiet hours)"


def unforwarded(grace_seconds: float, limit: int = 200) -> list[int]:
    """Return replies older than ``grace_seconds`` whose forward has not run (neither
    forwarded nor given up on)."""
    return list(
        db.session.scalars(
            select(SmsMessage.id)
            .where(
                SmsMessage.direction == Direction.INBOUND,
                SmsMessage.forwarded_at.is_(None),
                SmsMessage.forward_failed_at.is_(None),
                SmsMessage.created_at < utcnow() - timedelta(seconds=grace_seconds),
            )
            .order_by(SmsMessage.id)
            .limit(limit)
        )
    )


def sweep_forwards(grace_seconds: float) -> int:
    """Give a forward job to every reply older than ``grace_seconds`` whose forward has not
    run and has no job: a new reply, or one whose job was lost (Redis emptied, a process
    died); return how many."""
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
