"""Outgoing e-mail through the SMTP server of PRODUCT.md §12 (``SMTP_HOST``, ``SMTP_PORT``,
``SMTP_USER``, ``SMTP_PASSWORD``, ``SMTP_FROM``), for the host and its plugins."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app

SMTP_TIMEOUT = 20  # seconds


class MailNotConfigured(RuntimeError):
    """No SMTP server is set (``SMTP_HOST``)."""


def mail_configured() -> bool:
    """Tell whether an SMTP server is set."""
    return bool(current_app.config.get("SMTP_HOST"))


def send_mail(to: list[str], subject: str, body: str) -> str:
    """Send a plain-text e-mail to ``to``; return its Message-ID.

    Port 465 speaks TLS from the start; elsewhere STARTTLS is used when the server offers it.
    Raises ``MailNotConfigured`` without ``SMTP_HOST``, and ``smtplib.SMTPException`` or
    ``OSError`` when the server cannot be reached or refuses the message.
    """
    config = current_app.config
    host = config.get("SMTP_HOST")
    if not host:
        raise MailNotConfigured("SMTP_HOST is not set: no e-mail can be sent.")
    port = int(config.get("SMTP_PORT") or 25)
    message = EmailMessage()
    message["From"] = config.get("SMTP_FROM") or "crm@localhost"
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=message["From"].rpartition("@")[2] or None)
    message.set_content(body)
    context = ssl.create_default_context()
    if port == 465:
        smtp = smtplib.SMTP_SSL(host, port, timeout=SMTP_TIMEOUT, context=context)
    else:
        smtp = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT)
    with smtp:
        if port != 465:
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls(context=context)
                smtp.ehlo()
        if config.get("SMTP_USER"):
            smtp.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
        smtp.send_message(message)
    return message["Message-ID"]
