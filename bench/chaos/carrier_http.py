"""The carrier stub's HTTP face: the subset of Twilio's Messages API the SDK uses.

    POST /2010-04-01/Accounts/{AccountSid}/Messages.json           create (form: To, From,
                                                                    Body, StatusCallback)
    GET  /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json     fetch (404: code 20404)
    GET  /2010-04-01/Accounts/{AccountSid}/Messages.json           list: To, From, DateSent,
                                                                    DateSent<, DateSent>,
                                                                    PageSize, Page, PageToken

Names and shapes follow Twilio's OpenAPI description (``../shared/twilio/``) and the SDK
(``twilio.rest.api.v2010.account.message``): dates in RFC 2822, newest first, paging by
``next_page_uri``. Requests must carry the account's basic auth, as at Twilio (401 without).
"""

from __future__ import annotations

import base64
import json
import random
import re
import socket
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

from bench.chaos.carrier import SENT_AFTER, CarrierState, Create

API = "/2010-04-01/Accounts/"
MESSAGE = re.compile(r"^/2010-04-01/Accounts/(AC\w+)/Messages(?:/(SM\w+))?\.json$")
MAX_PAGE = 1000


def rfc2822(at: float | None) -> str | None:
    """Return an epoch time as Twilio writes dates ("Mon, 30 Nov 2026 19:51:50 +0000")."""
    if at is None:
        return None
    return time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(at))


def resource(state: CarrierState, c: Create, now: float) -> dict:
    """Return a create as Twilio's message resource."""
    uri = f"{API}{state.account_sid}/Messages/{c.sid}.json"
    return {
        "account_sid": state.account_sid,
        "api_version": "2010-04-01",
        "body": c.body,
        "date_created": rfc2822(c.at),
        "date_sent": rfc2822(c.at + SENT_AFTER) if now - c.at >= SENT_AFTER else None,
        "date_updated": rfc2822(now),
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": c.from_,
        "messaging_service_sid": None,
        "num_media": "0",
        "num_segments": "1",
        "price": None,
        "price_unit": "USD",
        "sid": c.sid,
        "status": c.status(now),
        "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
        "to": c.to,
        "uri": uri,
    }


def when(text: str) -> float:
    """Read a DateSent filter (ISO 8601 date-time, ``Z`` for UTC) as epoch seconds."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: CarrierServer

    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass  # quiet: the suite prints its own figures

    def _answer(self, status: int, payload: dict | None) -> None:
        data = json.dumps(payload).encode() if payload is not None else b""
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except ConnectionError:  # the client went away: timed out, or its worker killed
            self.close_connection = True
            if self.command == "POST":
                self.server.state.note_unanswered()

    def _error(self, status: int, code: int, message: str) -> None:
        more = f"https://www.twilio.com/docs/errors/{code}"
        self._answer(
            status, {"code": code, "message": message, "more_info": more, "status": status}
        )

    def _route(self) -> tuple[str, str | None] | None:
        state = self.server.state
        match = MESSAGE.match(urlsplit(self.path).path)
        expected = f"{state.account_sid}:{state.auth_token}".encode()
        auth = self.headers.get("Authorization", "")
        if not match or match.group(1) != state.account_sid:
            self._error(404, 20404, "The requested resource was not found")
            return None
        if auth != "Basic " + base64.b64encode(expected).decode():
            self._error(401, 20003, "Authenticate")
            return None
        return match.group(1), match.group(2)

    def do_POST(self):  # noqa: N802 (http.server's name)
        route = self._route()
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        if route is None:
            return
        if route[1] is not None:
            return self._error(405, 20004, "Method not allowed")
        state, settings = self.server.state, self.server.state.settings
        to, from_, body = form.get("To", ""), form.get("From", ""), form.get("Body", "")
        if not (to and from_ and body):
            return self._error(400, 21604, "A 'To', 'From' and 'Body' are required")
        fault = state.draw(body)
        if fault == "500_before":
            state.refuse(to, from_, body)
            return self._error(500, 20500, "Internal Server Error")
        create = state.record(to, from_, body, form.get("StatusCallback"), fault)
        pause = settings.latency
        if fault == "slow":
            pause += random.uniform(*settings.slow)
        elif fault == "timeout":
            pause += settings.hold
        if pause:
            state.closing.wait(pause)  # the fault itself: the carrier holds its answer
        if fault == "500_after":
            return self._error(500, 20500, "Internal Server Error")
        if fault == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return None
        return self._answer(201, resource(state, create, time.time()))

    def do_GET(self):  # noqa: N802
        route = self._route()
        if route is None:
            return None
        state = self.server.state
        now = time.time()
        if route[1] is not None:
            create = state.creates.get(route[1])
            if create is None:
                return self._error(404, 20404, f"The requested resource {self.path} was not found")
            return self._answer(200, resource(state, create, now))
        query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
        try:
            found = state.find(
                to=query.get("To"),
                from_=query.get("From"),
                after=when(query["DateSent>"]) if "DateSent>" in query else None,
                before=when(query["DateSent<"]) if "DateSent<" in query else None,
                on=query.get("DateSent", "")[:10] or None,
            )
            size = min(int(query.get("PageSize", 50)), MAX_PAGE)
            page = int(query.get("Page", 0))
        except ValueError:
            return self._error(400, 20001, "Invalid filter")
        start = page * size
        path = f"{API}{state.account_sid}/Messages.json"

        def page_uri(number: int) -> str:
            kept = {k: v for k, v in query.items() if k not in ("Page", "PageToken")}
            token = {"PageToken": f"PA{number * size}"} if number else {}
            return f"{path}?{urlencode({**kept, 'Page': number, **token})}"

        more = start + size < len(found)
        self._answer(
            200,
            {
                "messages": [resource(state, c, now) for c in found[start : start + size]],
                "end": start + len(found[start : start + size]) - 1,
                "first_page_uri": page_uri(0),
                "next_page_uri": page_uri(page + 1) if more else None,
                "page": page,
                "page_size": size,
                "previous_page_uri": page_uri(page - 1) if page else None,
                "start": start,
                "uri": page_uri(page),
            },
        )
        return None


class CarrierServer(ThreadingHTTPServer):
    """The stub's threaded HTTP server on 127.0.0.1; ``url`` is its base URL."""

    daemon_threads = True

    def __init__(self, state: CarrierState, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), Handler)
        self.state = state
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request, client_address) -> None:
        """Stay quiet when a client went away (a timed-out create): that is the fault."""
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def start(self) -> CarrierServer:
        self.thread.start()
        return self

    def close(self) -> None:
        self.state.close()
        self.shutdown()
        self.server_close()


def start_carrier(account_sid: str, auth_token: str, seed: int = 15) -> CarrierServer:
    """Start a stub for the account ``account_sid`` signing with ``auth_token``."""
    return CarrierServer(CarrierState(account_sid, auth_token, seed)).start()
