"""A real SMTP server (aiosmtpd) for the tests that send e-mail."""

from __future__ import annotations

import email
import socket
import threading
from email.message import Message

import pytest
from aiosmtpd.controller import Controller


class Inbox:
    """What the SMTP server received: each message parsed, with its envelope recipients."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []
        self.arrived = threading.Condition()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        parsed = email.message_from_bytes(envelope.content)
        with self.arrived:
            self.messages.append((list(envelope.rcpt_tos), parsed))
            self.arrived.notify_all()
        return "250 Message accepted for delivery"

    def wait(self, count: int, timeout: float = 10) -> list[tuple[list[str], Message]]:
        """Return the messages once ``count`` have arrived (the server runs in a thread)."""
        with self.arrived:
            if not self.arrived.wait_for(lambda: len(self.messages) >= count, timeout):
                pytest.fail(f"{len(self.messages)} e-mail(s) arrived, {count} expected")
            return list(self.messages)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server():
    """Start an SMTP server on 127.0.0.1; yield (port, inbox)."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield controller.port, inbox
    finally:
        controller.stop()
