"""The digest of a phone's replies beyond the hourly forward limit (issue 13, ``limits``).

A reply over ``SMS_FORWARDS_PER_HOUR`` is kept and shown on the reply page like any other;
its forward is held (``limits.hold``: its id in a Redis list per shop and phone) and one
digest job, due at
the end of the hour, forwards all the held replies at once: one e-mail listing them, one SMS
to the shop's cell saying how many and where to read them. A digest lost with Redis loses
no reply: they are all on the reply page.

The digest runs on the mail queue and is retried like a forward (``mail_jobs``): the
replies it took are kept with the job (its ``meta``) for the next try. After the last try
they are marked failed to forward (``forward_failed_at``, ``forward_error``) and the reply
page says so (issue 15, point 5).
"""

from __future__ import annotations

import logging
import smtplib

from rq import get_current_job

from host.api import Company, MailNotConfigured, db, get_redis, send_mail
from plugins.sms_module.conversations import forwarding, limits, mail_jobs
from plugins.sms_module.models import SmsMessage

log = logging.getLogger(__name__)

EXCERPT = 200  # characters of each reply in the e-mail
LISTED = 20  # replies quoted in the e-mail; the rest are counted


def send(company_id: int | None, phone: str) -> str:
    """Job: forward the held replies of ``phone`` to ``company_id`` in one digest, by e-mail
    and/or SMS as the shop's settings say; return what was done. Raises what ``send_mail``
    raised while RQ will try again (the replies taken kept in the job's ``meta``); after the
    last try the replies are marked failed (``mail_jobs.record_failure``)."""
    job = get_current_job()
    ids = _taken(company_id, phone, job)
    replies = [m for m in (db.session.get(SmsMessage, i) for i in ids) if m is not None]
    if not replies:
        return "nothing to do"
    emails, cell = forwarding.destinations(company_id)
    done = []
    if cell and company_id is not None:
        done.append(_by_sms(replies, cell))
    if emails:
        failed = _by_email(replies, emails)
        done.append(f"not e-mailed: {failed}" if failed else "e-mailed")
        if failed:
            mail_jobs.record_failure(replies, failed)
            db.session.commit()
    return ", ".join(done) or "kept on the reply page"


def _taken(company_id: int | None, phone: str, job) -> list[int]:
    """Return the ids of the replies this digest covers: those an earlier try of the job
    took, else those held now (taken from Redis, and kept with the job for a retry)."""
    if job is not None and "reply_ids" in job.meta:
        return [int(i) for i in job.meta["reply_ids"]]
    pipe = get_redis().pipeline()  # MULTI: the ids read are the ids taken
    pipe.lrange(limits.digest_key(company_id, phone), 0, -1)
    pipe.delete(limits.digest_key(company_id, phone))
    ids = [int(i) for i in pipe.execute()[0]]
    if job is not None and ids:
        job.meta["reply_ids"] = ids
        job.save_meta()  # before anything can fail: a retry finds them
    return ids


def _by_email(replies: list[SmsMessage], emails: list[str]) -> str | None:
    """E-mail the digest; return None once sent, else the code it finally failed for
    (``mail_jobs.CODES``). Raises while RQ will try the job again."""
    first = replies[0]
    who = forwarding.sender_label(first)
    quoted = "\n".join(
        f"- {m.created_at:%Y-%m-%d %H:%M} UTC: {_excerpt(m.body, EXCERPT)}"
        for m in replies[:LISTED]
    )
    more = f"\n… and {len(replies) - LISTED} more.\n" if len(replies) > LISTED else "\n"
    body = (
        f"{who} sent {len(replies)} more SMS replies to {first.sender_number} within an hour;"
        " they were held to spare your inbox:\n\n"
        f"{quoted}{more}\n"
        "Do not reply to this e-mail: the customer would not receive your answer.\n"
        f"Read and answer them on the reply page: {forwarding.reply_page_url(first.phone)}\n"
    )
    try:
        send_mail(emails, f"{len(replies)} more SMS replies from {who}", body)
    except MailNotConfigured as error:
        log.warning("digest of %d replies not e-mailed: SMTP_HOST is not set", len(replies))
        return mail_jobs.error_code(error)
    except (smtplib.SMTPException, OSError) as error:
        if mail_jobs.retried_later():
            raise  # the SMTP server may come back: RQ tries again later
        log.error("digest of %d replies not e-mailed, given up: %s", len(replies), error)
        return mail_jobs.error_code(error)
    return None


def _by_sms(replies: list[SmsMessage], cell: str) -> str:
    first = replies[0]
    company = db.session.get(Company, first.company_id)
    body = (
        f"{len(replies)} more SMS from {forwarding.sender_label(first)} within an hour. "
        f"Do not answer this SMS; read them on {forwarding.reply_page_url(first.phone)}"
    )
    key = forwarding.cell_forward_keys(first.id)[1]
    return forwarding.send_to_cell(company, cell, body, key)


def _excerpt(text: str, length: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1] + "…"
