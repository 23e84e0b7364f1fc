"""Outgoing e-mail through the SMTP server of PRODUCT.md §12 (``SMTP_HOST``, ``SMTP_PORT``,
``SMTP_USER``, ``SMTP_PASSWORD``, ``SMTP_FROM``), for the host and its plugins.

``SMTP_TIMEOUT`` (seconds, default 5) bounds the connection and every read from the server:
a server that accepts the connection and never answers costs a worker that long, not
minutes (issue 15, point 5)."""

from __future__ import annotations

import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app

DEFAULT_SMTP_TIMEOUT = 5.0  # seconds, when the app sets no SMTP_TIMEOUT
# Line breaks (str.splitlines) and other control characters: a raw one in a header would end
# it and start another (header injection), or make the library refuse the whole message.
_BREAKING = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")


def header_text(value: str) -> str:
    """Return ``value`` fit for one e-mail header line: each run of line breaks and control
    characters becomes one space (RFC 5322 §2.2: a header field is a single logical line)."""
    return _BREAKING.sub(" ", str(value)).strip()


class MailNotConfigured(RuntimeError):
    """No SMTP server is set (``SMTP_HOST``)."""


def mail_configured() -> bool:
    """Tell whether an SMTP server is set."""
    return bool(current_app.config.get("SMTP_HOST"))


def send_mail(to: list[str], subject: str, body: str) -> str:
    """Send a plain-text e-mail to ``to``; return its Message-ID.

    No header ever holds a raw line break (``header_text``, defence in depth: the forms
    refuse them in names). Port 465 speaks TLS from the start; elsewhere STARTTLS is used
    when the server offers it.
    The connection and each read wait at most ``SMTP_TIMEOUT`` seconds.
    Raises ``MailNotConfigured`` without ``SMTP_HOST``; ``TimeoutError`` when the server
    does not answer within ``SMTP_TIMEOUT`` (on connecting or at any later step); other
    ``smtplib.SMTPException`` or ``OSError`` when the server cannot be reached or refuses
    the message.
    """
    config = current_app.config
    host = config.get("SMTP_HOST")
    if not host:
        raise MailNotConfigured("SMTP_HOST is not set: no e-mail can be sent.")
    port = int(config.get("SMTP_PORT") or 25)
    message = EmailMessage()
    message["From"] = header_text(config.get("SMTP_FROM") or "crm@localhost")
    message["To"] = ", ".join(header_text(address) for address in to)
    message["Subject"] = header_text(subject)  # a name typed before forms refused breaks
    message["Message-ID"] = make_msgid(domain=message["From"].rpartition("@")[2] or None)
    message.set_content(body)
    timeout = smtp_timeout()
    try:
        _deliver(message, host, port, timeout)
    except smtplib.SMTPServerDisconnected as error:
        # smtplib reports a read that timed out as a lost connection: say what it was.
        if isinstance(error.__context__, TimeoutError):
            raise TimeoutError(
                f"the SMTP server {host}:{port} did not answer within {timeout:g} s"
            ) from error
        raise
    return message["Message-ID"]


def smtp_timeout() -> float:
    """Return the seconds the connection and each read may wait (``SMTP_TIMEOUT``, > 0)."""
    value = float(current_app.config.get("SMTP_TIMEOUT") or DEFAULT_SMTP_TIMEOUT)
    return value if value > 0 else DEFAULT_SMTP_TIMEOUT


def _deliver(message: EmailMessage, host: str, port: int, timeout: float) -> None:
    config = current_app.config
    context = ssl.create_default_context()
    if port == 465:
        smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
    with smtp:
        if port != 465:
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls(context=context)
                smtp.ehlo()
        if config.get("SMTP_USER"):
            smtp.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
        smtp.send_message(message)
