"""The mail the SMS module sends (reply forwards and digests, ``forwarding``, ``digest``):
its own RQ queue, its retries, and a forward that finally fails recorded as failed.

Mail runs on the ``mail`` queue, declared after the SMS queues: a worker serves the queues
in their declared order, so an SMTP server that accepts and never answers holds no SMS
send behind it, and a platform may run workers of its own for mail (issue 15, point 5).
``SMTP_TIMEOUT`` (host) bounds each attempt; an SMTP server away is tried again
``RETRIES`` later, and after the last try the replies are marked failed with a short code
(``forward_failed_at``, ``forward_error``), never forwarded; the reply page says why.
"""

from __future__ import annotations

import smtplib
from collections.abc import Iterable

from flask import current_app
from rq import Retry, get_current_job
from rq.rate_limit import RateLimit

from host.api import MailNotConfigured, utcnow
from plugins.sms_module.models import SmsMessage

# The RQ queue of the module's mail: not a ``Queue`` (a message's column), a worker's.
MAIL_QUEUE = "mail"
# When a mail job that failed (the SMTP server away) is tried again, in seconds.
RETRIES = [30, 120, 600, 1800, 3600]
# The most one attempt may take: a few SMTP_TIMEOUT waits, and a slow database.
JOB_TIMEOUT = 180

# Why a forward by e-mail was given up on (``forward_error``).
SMTP_TIMEOUT = "smtp_timeout"  # the server accepted the connection, then did not answer
SMTP_UNREACHABLE = "smtp_unreachable"  # refused connection, no route, unknown host, TLS
SMTP_REFUSED = "smtp_refused"  # the server answered with a refusal (sender, recipients…)
MAIL_NOT_CONFIGURED = "mail_not_configured"  # no SMTP_HOST on the platform
CODES = (SMTP_TIMEOUT, SMTP_UNREACHABLE, SMTP_REFUSED, MAIL_NOT_CONFIGURED)
# What the SMTP server says when it answers with a refusal (a 4xx or 5xx reply).
REFUSALS = (
    smtplib.SMTPResponseException,
    smtplib.SMTPRecipientsRefused,
    smtplib.SMTPNotSupportedError,
)


def rate_limit() -> RateLimit:
    """Return RQ's concurrency limit of mail jobs: at most ``SMS_MAIL_CONCURRENCY`` of them
    queued or running at once on the whole platform, the rest waiting in RQ's rate-limited
    registry. However many mail jobs wait, a worker that also serves the SMS queues is
    never one of more than that many held by a silent SMTP server (issue 15, point 5)."""
    return RateLimit("sms-mail", int(current_app.config["SMS_MAIL_CONCURRENCY"]))


def retry() -> Retry:
    """Return the retries of a mail job: ``SMS_MAIL_RETRY_SECONDS`` (a list of delays in
    seconds; by default ``RETRIES``)."""
    delays = list(current_app.config.get("SMS_MAIL_RETRY_SECONDS") or RETRIES)
    return Retry(max=len(delays), interval=delays)


def error_code(error: BaseException) -> str:
    """Return the ``forward_error`` code of what ``send_mail`` raised: ``smtp_timeout``
    (``TimeoutError``), ``smtp_refused`` (an SMTP reply refusing), ``mail_not_configured``
    (``MailNotConfigured``), else ``smtp_unreachable``."""
    if isinstance(error, MailNotConfigured):
        return MAIL_NOT_CONFIGURED
    if isinstance(error, TimeoutError):
        return SMTP_TIMEOUT
    if isinstance(error, REFUSALS):
        return SMTP_REFUSED
    return SMTP_UNREACHABLE


def retried_later() -> bool:
    """Tell whether the running job will be tried again if it raises (RQ retries left);
    outside a job (a direct call) this is the last try."""
    job = get_current_job()
    return bool(job is not None and job.retries_left)


def record_failure(replies: Iterable[SmsMessage], code: str) -> None:
    """Mark ``replies`` failed to forward by e-mail, now, for ``code`` (``CODES``): never
    forwarded, so the sweeper leaves them, and the reply page says why. The caller
    commits."""
    now = utcnow()
    for reply in replies:
        reply.forwarded_at = None
        reply.forward_failed_at = now
        reply.forward_error = code
