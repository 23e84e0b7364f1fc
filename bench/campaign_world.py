"""The campaign benchmark's world (issue 14 point 4): a shop with ``BENCH_CUSTOMERS``
customers inserted in bulk, a mix of what the rules look at, and what the fan-out must
write for them, counted here independently of the product's code.

The mix, drawn with a fixed seed: 8 % never consented, 3 % consented then withdrew, 2 % of
the phones opted out (STOP), 1 % of the customers share a phone with the customer before
them, half of the phones already had the shop's disclaimer (Delivered), the rest are first
contacts; languages 40 % French, 30 % English, 30 % unknown (the shop's, French in Quebec).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import insert
from werkzeug.security import generate_password_hash

from host.extensions import db
from host.models import Company, CompanyOption, Customer, Role, User
from plugins.sms_module.models import ConsentEvent, OptOut, SmsMessage
from plugins.sms_module.models.compliance import ConsentKind, ConsentMethod

PASSWORD = "bench password"
EMAIL = "admin@campaign.bench"
BATCH = 5000
SEED = 14


@dataclass
class World:
    """The shop, its admin, and what its campaign must produce."""

    shop_id: int
    customers: int
    refused: dict[str, int] = field(default_factory=dict)  # code → customers
    phones_reached: int = 0  # accepted messages: one per phone
    first_contacts: int = 0  # disclaimers to write


def phone(i: int) -> str:
    """A phone ending in 1: none of the carrier simulator's test endings."""
    return f"+1450{i:06d}1"


def build(customers: int) -> World:
    """Insert the shop and its customers in bulk; return what the fan-out must write."""
    shop = Company(
        name="Garage Campagne", country="CA", province="QC", language="fr", v2v_number="V2V-14"
    )
    db.session.add(shop)
    db.session.flush()
    db.session.add(CompanyOption(company_id=shop.id, number=124, enabled=True))
    hashed = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    db.session.add(
        User(company_id=shop.id, email=EMAIL, name="Admin", password_hash=hashed, role=Role.ADMIN)
    )
    db.session.commit()
    draw = random.Random(SEED)
    world = World(shop.id, customers, {"no_consent": 0, "opted_out": 0})
    reached: set[str] = set()
    told: set[str] = set()
    stopped: set[str] = set()
    previous = None
    for start in range(0, customers, BATCH):
        people = []
        for i in range(start, min(start + BATCH, customers)):
            number = previous if previous and draw.random() < 0.01 else phone(i)
            previous = number
            spoken = draw.choices(["fr", "en", None], [4, 3, 3])[0]
            consent = draw.choices(["given", "none", "withdrawn"], [89, 8, 3])[0]
            people.append((number, spoken, consent))
        ids = _customers(shop.id, start, people)
        _facts(shop.id, ids, people, draw, world, reached, told, stopped)
        db.session.commit()
    world.phones_reached = len(reached)
    world.first_contacts = len(reached - told)
    return world


def _customers(shop_id: int, start: int, people: list[tuple]) -> list[int]:
    table = Customer.__table__
    rows = [
        {
            "company_id": shop_id,
            "first_name": "Client",
            "last_name": str(start + n),
            "mobile_phone": number,
            "language": spoken,
            "search_text": f"client {start + n} {number}",
        }
        for n, (number, spoken, _) in enumerate(people)
    ]
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(db.session.execute(statement, rows).scalars())


def _facts(shop_id, ids, people, draw, world, reached, told, stopped) -> None:
    """Consent events, opt-outs and earlier disclaimers of a batch, in bulk; count what the
    fan-out must write, in the send service's order (consent, then opt-out)."""
    obtained = datetime(2026, 1, 5, tzinfo=UTC)
    events, opt_outs, notes = [], [], []
    for customer_id, (number, _, consent) in zip(ids, people, strict=True):
        if consent != "none":
            events.append(_event(shop_id, customer_id, number, ConsentKind.GIVEN, obtained))
        if consent == "withdrawn":
            events.append(_event(shop_id, customer_id, number, ConsentKind.WITHDRAWN, obtained))
        new_phone = number not in stopped and number not in told and number not in reached
        if new_phone and draw.random() < 0.02:
            stopped.add(number)
            opt_outs.append({"phone": number, "active": True})
        elif new_phone and draw.random() < 0.5:
            told.add(number)
            notes.append(_note(shop_id, customer_id, number))
        if consent != "given":
            world.refused["no_consent"] += 1
        elif number in stopped:
            world.refused["opted_out"] += 1
        else:
            reached.add(number)
    for model, rows in ((ConsentEvent, events), (OptOut, opt_outs), (SmsMessage, notes)):
        if rows:
            db.session.execute(insert(model.__table__), rows)


def _event(shop_id, customer_id, number, kind, obtained) -> dict:
    return {
        "company_id": shop_id,
        "customer_id": customer_id,
        "phone": number,
        "kind": kind,
        "method": ConsentMethod.PAPER if kind == ConsentKind.GIVEN else None,
        "obtained_at": obtained,
        "reference": "bench",
        "recorded_at": obtained,
    }


def _note(shop_id, customer_id, number) -> dict:
    """The shop's disclaimer that reached the phone earlier (Delivered)."""
    sent = datetime(2026, 2, 1, tzinfo=UTC)
    return {
        "company_id": shop_id,
        "customer_id": customer_id,
        "direction": "outbound",
        "kind": "disclaimer",
        "phone": number,
        "body": "Garage Campagne vous écrit. Répondez ARRET pour vous désabonner.",
        "queue": "transactional",
        "status": "delivered",
        "segments": 2,
        "encoding": "UCS-2",
        "price_per_segment": 0,
        "price": 0,
        "currency": "CAD",
        "send_at": sent,
        "attempts": 1,
        "created_at": sent,
        "updated_at": sent,
    }
