"""The digest of a phone's replies beyond the hourly forward limit (issue 13, ``limits``).

A reply over ``SMS_FORWARDS_PER_HOUR`` is kept and shown on the reply page like any other;
its forward is held (``limits.hold``: its id in a Redis list per shop and phone) and one
digest job, due at
the end of the hour, forwards all the held replies at once: one e-mail listing them, one SMS
to the shop's cell saying how many and where to read them. A digest lost with Redis loses
no reply: they are all on the reply page.
"""

from __future__ import annotations

import logging
import smtplib

from host.api import Company, MailNotConfigured, db, get_redis, send_mail
from plugins.sms_module.conversations import forwarding, limits
from plugins.sms_module.models import SmsMessage

log = logging.getLogger(__name__)

EXCERPT = 200  # characters of each reply in the e-mail
LISTED = 20  # replies quoted in the e-mail; the rest are counted


def send(company_id: int | None, phone: str) -> str:
    """Job: forward the held replies of ``phone`` to ``company_id`` in one digest, by e-mail
    and/or SMS as the shop's settings say; return what was done."""
    pipe = get_redis().pipeline()  # MULTI: the ids read are the ids taken
    pipe.lrange(limits.digest_key(company_id, phone), 0, -1)
    pipe.delete(limits.digest_key(company_id, phone))
    ids = [int(i) for i in pipe.execute()[0]]
    replies = [m for m in (db.session.get(SmsMessage, i) for i in ids) if m is not None]
    if not replies:
        return "nothing to do"
    emails, cell = forwarding.destinations(company_id)
    done = []
    if cell and company_id is not None:
        done.append(_by_sms(replies, cell))
    if emails:
        done.append(_by_email(replies, emails))
    return ", ".join(done) or "kept on the reply page"


def _by_email(replies: list[SmsMessage], emails: list[str]) -> str:
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
    except MailNotConfigured:
        log.warning("digest of %d replies not e-mailed: SMTP_HOST is not set", len(replies))
        return "no SMTP server for the e-mail"
    except (smtplib.SMTPException, OSError) as error:
        log.error("digest of %d replies not e-mailed: %s", len(replies), error)
        return f"not e-mailed: {error}"
    return "e-mailed"


def _by_sms(replies: list[SmsMessage], cell: str) -> str:
    first = replies[0]
    company = db.session.get(Company, first.company_id)
    body = (
        f"{len(replies)} more SMS from {forwarding.sender_label(first)} within an hour. "
        f"Do not answer this SMS; read them on {forwarding.reply_page_url(first.phone)}"
    )
    return forwarding.send_to_cell(company, cell, body, f"forward-digest:{first.id}")


def _excerpt(text: str, length: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1] + "…"
