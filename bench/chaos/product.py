"""What the chaos suite does through the product's own interfaces, and what it reads back.

Messages go through the REST API (``POST /api/v1/sms/messages`` with a shop token), bookings
through the ORM in the app (the host fires its events on the commit, as for a page's save),
customers' replies through the signed inbound webhook. Reads of the database end their
transaction and wait out a database that is restarting.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import requests
from sqlalchemy import bindparam, inspect, select, text, update
from sqlalchemy.exc import DBAPIError, OperationalError
from twilio.request_validator import RequestValidator

from bench.chaos.world import World
from host.extensions import db
from host.models import Appointment, AppointmentStatus
from plugins.sms_module.api import tokens
from plugins.sms_module.models import SenderNumber, ShopSmsSettings, SmsMessage, SmsStatusChange


@dataclass
class Answer:
    """The API's answer to one send request: HTTP status, message id, when it came."""

    status: int
    message_id: int | None
    at: float
    body: str
    due: float | None = None  # the send_at asked for (epoch seconds), None: at once


@dataclass
class Row:
    """What the audit reads of one message."""

    id: int
    phone: str
    body: str
    kind: str
    direction: str
    status: str
    provider_sid: str | None
    send_at: datetime | None
    appointment_id: int | None
    failure_code: str | None


def read(query, timeout: float = 60):
    """Run ``query()`` in a fresh transaction, retrying while the database is away."""
    end = time.monotonic() + timeout
    while True:
        try:
            result = query()
            db.session.commit()  # end the snapshot: the next read sees the workers' writes
            return result
        except (OperationalError, DBAPIError):
            db.session.rollback()
            if time.monotonic() > end:
                raise
            time.sleep(0.2)  # the database restarts: ask again


class Product:
    """The shop, its customers and its token, and the product's interfaces to them."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.shop_id: int | None = None
        self.customers: list[tuple[int, str]] = []
        self.token = ""
        self._next = 0

    def set_up(self, count: int, rate: float) -> None:
        """Add a shop with ``count`` consenting customers and a token; set every sender
        number's rate to ``rate`` segments per second."""
        first = 1000 + len(self.customers)
        phones = [f"+1514555{first + i:04d}" for i in range(count)]
        self.shop_id, ids = self.world.shop_with_customers(phones)
        self.customers = list(zip(ids, phones, strict=True))
        db.session.execute(update(SenderNumber).values(rate=rate))
        db.session.commit()
        _row, self.token = tokens.create_token(self.shop_id, "chaos", None)

    def take(self, count: int) -> list[tuple[int, str]]:
        """Return ``count`` customers no scenario used yet (id, phone)."""
        chosen = self.customers[self._next : self._next + count]
        if len(chosen) < count:
            raise RuntimeError("the world has too few customers for this plan")
        self._next += count
        return chosen

    # Interfaces --------------------------------------------------------------------------

    def send(
        self,
        customer_id: int,
        body: str,
        send_at: datetime | None = None,
        key: str | None = None,
        timeout: float = 30,
    ) -> Answer:
        """POST one message to the API; return its answer (status 0: no answer at all)."""
        payload: dict = {"customer_id": customer_id, "body": body}
        if send_at is not None:
            payload["send_at"] = send_at.astimezone(UTC).isoformat(timespec="milliseconds")
        headers = {"Authorization": f"Bearer {self.token}"}
        if key:
            headers["Idempotency-Key"] = key
        try:
            answer = requests.post(
                self.world.web_url + "/api/v1/sms/messages",
                json=payload,
                headers=headers,
                timeout=timeout,
            )
        except requests.RequestException:
            return Answer(0, None, time.time(), body)
        message_id = None
        if answer.status_code in (200, 201, 202):
            message_id = answer.json().get("id")
        due = send_at.timestamp() if send_at is not None else None
        return Answer(answer.status_code, message_id, time.time(), body, due)

    def book(self, customer_id: int, starts_at: datetime) -> int:
        """Book an appointment through the ORM and commit (the host fires its event)."""
        appointment = Appointment(
            company_id=self.shop_id,
            customer_id=customer_id,
            starts_at=starts_at,
            vehicle="Civic 2019",
            status=AppointmentStatus.BOOKED,
        )
        db.session.add(appointment)
        db.session.commit()
        return appointment.id

    def reply(self, phone: str, number: str, body: str) -> tuple[int, str]:
        """POST a customer's SMS to the inbound webhook, signed like Twilio; return the HTTP
        status and its MessageSid."""
        url = self.world.web_url + "/sms/twilio/inbound"
        sid = "SM" + uuid.uuid4().hex
        params = {
            "AccountSid": self.world.account_sid,
            "Body": body,
            "From": phone,
            "MessageSid": sid,
            "NumMedia": "0",
            "To": number,
        }
        signature = RequestValidator(self.world.auth_token).compute_signature(url, params)
        try:
            answer = requests.post(
                url, data=params, headers={"X-Twilio-Signature": signature}, timeout=30
            )
        except requests.RequestException:
            return 0, sid
        return answer.status_code, sid

    def forward_to(self, emails: str) -> None:
        """Make the shop forward its customers' replies to ``emails``."""
        settings = db.session.get(ShopSmsSettings, self.shop_id) or ShopSmsSettings(
            company_id=self.shop_id
        )
        settings.forward_emails = emails
        db.session.add(settings)
        db.session.commit()

    # Reads -------------------------------------------------------------------------------

    def rows(self, phones: set[str], since_id: int) -> list[Row]:
        """Return the messages to or from ``phones`` with an id above ``since_id``."""
        m = SmsMessage
        columns = (
            m.id,
            m.phone,
            m.body,
            m.kind,
            m.direction,
            m.status,
            m.provider_sid,
            m.send_at,
            m.appointment_id,
            m.failure_code,
        )
        query = select(*columns).where(m.phone.in_(phones), m.id > since_id).order_by(m.id)
        found = read(lambda: db.session.execute(query).all())
        return [Row(*(str(v) if i == 5 else v for i, v in enumerate(r))) for r in found]

    def forwards(self, sids: list[str]) -> dict[str, dict]:
        """Return, by SID, the forward columns of the replies ``sids`` (every column of
        ``sms_message`` whose name says "forward", as the database has them)."""
        columns = [
            c["name"]
            for c in read(lambda: inspect(db.engine).get_columns("sms_message"))
            if "forward" in c["name"]
        ]
        query = text(
            f"SELECT provider_sid, {', '.join(columns)} FROM sms_message "
            "WHERE provider_sid IN :sids"
        ).bindparams(bindparam("sids", expanding=True))
        found = read(lambda: db.session.execute(query, {"sids": sids}).mappings().all())
        return {row["provider_sid"]: dict(row) for row in found} if sids else {}

    def history(self, message_id: int) -> list[tuple]:
        """Return a message's status history: (time, status, source, detail)."""
        c = SmsStatusChange
        query = (
            select(c.at, c.status, c.source, c.detail)
            .where(c.message_id == message_id)
            .order_by(c.id)
        )
        return [tuple(r) for r in read(lambda: db.session.execute(query).all())]

    def count_sent(self) -> int:
        """Return how many outbound messages of the platform are Sent (no final status)."""
        query = select(db.func.count()).where(
            SmsMessage.status == "sent", SmsMessage.direction == "outbound"
        )
        return read(lambda: db.session.scalar(query))

    def last_id(self) -> int:
        """Return the highest message id so far (a scenario's watermark)."""
        return read(lambda: db.session.scalar(select(db.func.max(SmsMessage.id)))) or 0

    def rates(self) -> dict[str, float]:
        """Return each sender number's rate (segments per second)."""
        query = select(SenderNumber.number, SenderNumber.rate)
        rows = read(lambda: db.session.execute(query).all())
        return {number: float(rate) for number, rate in rows}

    def wait(self, condition, timeout: float, every: float = 0.25) -> bool:
        """Poll ``condition()`` until true or ``timeout`` seconds; return whether it held."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if condition():
                return True
            time.sleep(every)  # polling real processes with a deadline
        return bool(condition())


def future(seconds: float) -> datetime:
    """Return the UTC time ``seconds`` from now."""
    return datetime.now(UTC) + timedelta(seconds=seconds)
