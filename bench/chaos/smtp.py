"""SMTP servers for the mail fault: one that accepts connections and never answers (not even
its greeting, like a server stuck behind a dead backend), and a normal one (aiosmtpd) whose
inbox counts what arrived."""

from __future__ import annotations

import socket
import threading

from aiosmtpd.controller import Controller

from bench.chaos.services import free_port


class HangingSmtp:
    """Accept every connection on 127.0.0.1 and keep it open without a byte in answer."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.port = self.listener.getsockname()[1]
        self.accepted = 0
        self._held: list[socket.socket] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _address = self.listener.accept()
            except OSError:
                return  # closed
            with self._lock:
                self.accepted += 1
                self._held.append(connection)

    def close(self) -> None:
        self.listener.close()
        with self._lock:
            for connection in self._held:
                connection.close()
            self._held.clear()


class Inbox:
    """What the normal SMTP server received (aiosmtpd's handler)."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        with self._lock:
            self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"

    def count(self) -> int:
        with self._lock:
            return len(self.messages)


class NormalSmtp:
    """An aiosmtpd server on 127.0.0.1 that accepts every message."""

    def __init__(self) -> None:
        self.inbox = Inbox()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=free_port())
        self.controller.start()
        self.port = self.controller.port

    def close(self) -> None:
        self.controller.stop()
