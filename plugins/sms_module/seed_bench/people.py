"""The seeded shops (module on, V2V number, province), their users, customers with express
consent on record (PRODUCT.md §2, §3, §4), and the campaigns of the bigger shops (§7)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from werkzeug.security import generate_password_hash

from host.api import Company, CompanyOption, Customer, Role, User, db
from plugins.sms_module.compliance.rules import OPTION_NUMBER
from plugins.sms_module.models import ConsentEvent, SmsCampaign
from plugins.sms_module.models.campaigns import CampaignStatus
from plugins.sms_module.seed_bench import plan
from plugins.sms_module.seed_bench.writer import Writer

# Every seeded user logs in with this password (a benchmark database, never a real one).
PASSWORD = "seed-bench"
ROLES = (Role.ADMIN, Role.STAFF)  # each shop's users
CONSENT_METHODS = ("paper",) * 12 + ("electronic",) * 7 + ("oral",)


@dataclass
class Shop:
    """A seeded shop and what its messages need to know of it."""

    id: int
    name: str
    language: str
    share: float
    province: str
    customers: list[tuple[int, str, str]] = field(default_factory=list)  # id, phone, language
    campaigns: list[int] = field(default_factory=list)


def make_shops(count: int, messages: int, start: datetime, rng: random.Random) -> list[Shop]:
    """Add ``count`` shops with option 124 on, an administrator and a staff member each
    (``admin-<id>@seed.example`` / ``staff-<id>@seed.example``, password ``PASSWORD``);
    commit. The first shops are the biggest (``plan.shop_sizes``)."""
    password_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    shops = []
    for index, share in enumerate(plan.shop_sizes(count)):
        who = plan.shop_identity(index, rng)
        company = Company(
            name=who["name"],
            country="CA",
            province=who["province"],
            language=who["language"],
            v2v_number=f"V2V-{rng.randrange(10**6, 10**7)}",
            created_at=start - timedelta(days=30),
        )
        db.session.add(company)
        db.session.flush()
        db.session.add(CompanyOption(company_id=company.id, number=OPTION_NUMBER, enabled=True))
        for role in ROLES:
            user = User(
                company_id=company.id,
                email=f"{role.value}-{company.id}@seed.example",
                name=f"{role.value.title()} {company.name}",
                role=role,
                password_hash=password_hash,
            )
            db.session.add(user)
        shops.append(Shop(company.id, company.name, who["language"], share, who["province"]))
    db.session.commit()
    return shops


def add_campaigns(shops: list[Shop], start: datetime, days: int, rng: random.Random) -> None:
    """Give the bigger half of the shops a campaign a month; commit."""
    for shop in shops[: max(1, len(shops) // 2)]:
        for month in range(max(1, days // 30)):
            send_at = start + timedelta(days=month * 30 + rng.uniform(1, 25), hours=14)
            body = plan.BODIES["campaign"]["en"].format(shop=shop.name)
            campaign = SmsCampaign(
                company_id=shop.id,
                name=f"Promo {month + 1}",
                body=body,
                body_fr=plan.BODIES["campaign"]["fr"].format(shop=shop.name),
                status=CampaignStatus.SENDING,
                send_at=send_at,
                created_at=send_at - timedelta(days=2),
                confirmed_at=send_at - timedelta(days=1),
                prepared_at=send_at + timedelta(minutes=1),
            )
            db.session.add(campaign)
            db.session.flush()
            shop.campaigns.append(campaign.id)
    db.session.commit()


CUSTOMER_COLUMNS = (
    "id", "company_id", "first_name", "last_name", "mobile_phone", "email", "language",
    "created_at", "search_text",
)  # fmt: skip
CONSENT_COLUMNS = (
    "id", "company_id", "customer_id", "phone", "kind", "method", "obtained_at", "reference",
    "text", "recorded_at",
)  # fmt: skip


def add_customers(
    writer: Writer,
    shops: list[Shop],
    messages: int,
    start: datetime,
    rng: random.Random,
) -> tuple[int, int]:
    """Add each shop's customers (about one per six of its messages), each with the consent
    given before the seeded period as the customer form records it (its day, at noon UTC;
    ``views.consent_field``); return how many customers and consent lines. Not committed."""
    customer_id = writer.next_id(Customer.__table__)
    consent_id = writer.next_id(ConsentEvent.__table__)
    customers, consents = [], []
    for shop in shops:
        province = shop.province
        for _ in range(max(5, round(messages * shop.share / 6))):
            french = rng.random() < (0.8 if province == "QC" else 0.1)
            first, last, language = plan.person(rng, french)
            phone = plan.phone_for(customer_id, province)
            email = f"{plan.fold(first)}.{customer_id}@example.com".replace(" ", "")
            created = start - timedelta(days=rng.uniform(1, 700))
            search = plan.fold(f"{first} {last} {email} {phone}")
            customers.append(
                (customer_id, shop.id, first, last, phone, email, language, created, search)
            )
            method = rng.choice(CONSENT_METHODS)
            obtained = created.replace(hour=12, minute=0, second=0, microsecond=0)
            consents.append(
                (consent_id, shop.id, customer_id, phone, "given", method, obtained,
                 "seed: form", None, created)
            )  # fmt: skip
            shop.customers.append((customer_id, phone, language))
            customer_id, consent_id = customer_id + 1, consent_id + 1
    writer.write(Customer.__table__, CUSTOMER_COLUMNS, customers)
    writer.write(ConsentEvent.__table__, CONSENT_COLUMNS, consents)
    return len(customers), len(consents)
