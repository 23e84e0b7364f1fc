"""The seeded traffic: who gets which message when, from which sticky number (PRODUCT.md §7),
the first-SMS disclaimers and STOP replies (§5), withdrawn consents (§4), replies routed to
their conversation (§9), and the rows of conversations, opt-outs and ledger they leave."""

from __future__ import annotations

import bisect
from datetime import datetime, timedelta
from decimal import Decimal

from plugins.sms_module.carriers.errors import UNSUBSCRIBED
from plugins.sms_module.seed_bench import plan
from plugins.sms_module.seed_bench.people import Shop
from plugins.sms_module.seed_bench.steps import CANCEL_HOURS, Steps, sid
from plugins.sms_module.texts.defaults import disclaimer_text
from plugins.sms_module.texts.pricing import segment_rule
from plugins.sms_module.texts.segments import count_segments

STOP_SHARE = 0.02  # of the replies: STOP / ARRET
WITHDRAW_SHARE = 0.01  # customers who withdraw consent during the period
_FATES = [name for name, _ in plan.FATES]
_FATE_CUM = [sum(w for _, w in plan.FATES[: i + 1]) for i in range(len(plan.FATES))]
_KINDS = list(plan.KINDS)
_KIND_CUM = [sum(list(plan.KINDS.values())[: i + 1]) for i in range(len(_KINDS))]


class _Company:  # what ``disclaimer_text`` reads of a shop
    def __init__(self, name: str) -> None:
        self.name = name


class Traffic:
    """Generates the messages of ``shops`` between ``start`` and ``end`` into ``steps``."""

    def __init__(self, shops: list[Shop], pools: dict, pricing, steps: Steps, rng, start, end):
        self.shops, self.pools, self.steps, self.rng = shops, pools, steps, rng
        self.start, self.end = start, end
        self.pps, self.currency = Decimal(pricing.price_per_segment), pricing.currency
        self.cum = [sum(s.share for s in shops[: i + 1]) for i in range(len(shops))]
        self.rule = segment_rule()
        self._segments: dict[str, tuple[int, str]] = {}
        self.conversations: dict[tuple, list] = {}  # (shop, phone, queue) → [number id, last]
        self.greeted: set[int] = set()
        self.opted_out: dict[str, list] = {}  # phone → [active, created, updated]
        self.opt_events: list[tuple] = []  # phone, action, company, raw, source, at
        self.consents: list[tuple] = []  # company, customer, phone, kind, text, at, reference
        self.withdrawn: dict[int, datetime] = {}
        self.room = 2  # messages still wanted: with one left, no disclaimer nor STOP answer
        span = (end - start).total_seconds()
        for shop in shops:
            for customer_id, phone, _ in shop.customers:
                if rng.random() < WITHDRAW_SHARE:
                    at = start + timedelta(seconds=rng.uniform(0, span))
                    self.withdrawn[customer_id] = at
                    line = (shop.id, customer_id, phone, "withdrawn", None, at, None)
                    self.consents.append(line)

    def segments(self, body: str) -> tuple[int, str]:
        if body not in self._segments:
            count = count_segments(body, **self.rule)
            self._segments[body] = (count.segments, count.encoding)
        return self._segments[body]

    def _body(self, kind: str, shop: Shop, language: str) -> str:
        rng = self.rng
        return plan.BODIES[kind][language].format(
            shop=shop.name,
            hour=rng.choice(plan.HOURS[language]),
            day=rng.choice(plan.DAYS[language]),
            amount=rng.choice(("89.95", "245.10", "612.40", "1 104.75", "59.00")),
        )

    def _sender(self, shop: Shop, customer_id: int, phone: str, queue: str, at: datetime):
        key = (shop.id, phone, queue)
        conversation = self.conversations.get(key)
        if conversation is None:
            numbers = self.pools[queue]
            conversation = self.conversations[key] = [numbers[customer_id % len(numbers)], at]
        conversation[1] = max(conversation[1], at)
        return conversation[0]

    def _message(self, shop, customer, kind, queue, at, body=None, campaign=None) -> dict:
        customer_id, phone, language = customer
        body = body or self._body(kind, shop, language)
        segments, encoding = self.segments(body)
        number_id, number = self._sender(shop, customer_id, phone, queue, at)
        return {
            "company": shop.id, "customer": customer_id, "kind": kind, "phone": phone,
            "body": body, "queue": queue, "sender": number, "segments": segments,
            "encoding": encoding, "pps": self.pps, "price": self.pps * segments,
            "currency": self.currency, "campaign": campaign, "number_id": number_id,
        }  # fmt: skip

    def send(self, shop: Shop, customer: tuple, kind: str, queue: str, at, campaign=None) -> int:
        """Add one outbound message (and its disclaimer first, if the phone had none from
        the shop); return how many messages were added."""
        rng, (customer_id, phone, language) = self.rng, customer
        added = 0
        refusal = None
        if phone in self.opted_out and self.opted_out[phone][0]:
            refusal = "opted_out"
        elif customer_id in self.withdrawn and self.withdrawn[customer_id] < at:
            refusal = "no_consent"
        if refusal is None and customer_id not in self.greeted and self.room > 1:
            self.greeted.add(customer_id)
            text = disclaimer_text(_Company(shop.name), language)
            first = self._message(shop, customer, "disclaimer", queue, at, body=text)
            first_id = self.steps.outbound(first, "delivered", at - timedelta(seconds=1))
            # Kept with its carrier SID once the carrier has it (compliance.disclaimer).
            self.consents.append(
                (shop.id, customer_id, phone, "disclaimer_sent", text, at, sid(first_id))
            )
            added += 1
        m = self._message(shop, customer, kind, queue, at, campaign=campaign)
        # Refused only for what the ledgers say (an opted-out phone, a consent withdrawn).
        fate = "refused" if refusal else _FATES[bisect.bisect(_FATE_CUM, rng.random() * 1000)]
        if fate == "refused":
            m["code"] = refusal
        elif fate == "undelivered":
            m["code"] = rng.choice(plan.UNDELIVERED_CODES)
        elif fate == "failed":
            m["code"] = rng.choice(plan.FAILED_CODES)
            if m["code"] == str(UNSUBSCRIBED):
                self._opt_out(phone, shop.id, m["code"], "provider_error", at)
        m["withdrawal"] = rng.choice(plan.WITHDRAWALS)
        fate = self._withdrawn_later(m, fate, customer_id, at)
        self.steps.outbound(m, fate, at)
        return added + 1

    def _withdrawn_later(self, m: dict, fate: str, customer_id: int, at: datetime) -> str:
        """Return the fate of message ``m``, due ``at``, once the customer's consent
        withdrawn after it has canceled what was still waiting (``sending.withdrawal``):
        one still Scheduled at the end is Canceled; one Canceled while the withdrawal came
        was canceled by it, then."""
        withdrawn = self.withdrawn.get(customer_id)
        if withdrawn is None or withdrawn <= at:
            return fate
        if fate == "scheduled":
            fate = "canceled"
        if fate == "canceled" and withdrawn <= at + timedelta(hours=CANCEL_HOURS):
            m["withdrawal"], m["canceled_at"] = "consent_withdrawn", withdrawn
        return fate

    def reply(self, shop: Shop, customer: tuple, at: datetime) -> int:
        """Add the customer's SMS to the number of their conversation; a STOP opts the
        phone out and is answered. Return how many messages were added."""
        customer_id, phone, language = customer
        if (shop.id, phone, "transactional") not in self.conversations:
            return self.send(shop, customer, "appointment_booked", "transactional", at)
        stop = self.rng.random() < STOP_SHARE and not self.opted_out.get(phone, [False])[0]
        stop = stop and self.room > 1
        body = ("ARRET" if language == "fr" else "STOP") if stop else None
        body = body or self.rng.choice(plan.REPLIES[language])
        m = self._message(shop, customer, "inbound", "transactional", at, body=body)
        self.steps.inbound(m, at, read=stop or self.rng.random() < 0.8)
        if not stop:
            return 1
        self._opt_out(phone, shop.id, body, "sms_keyword", at)
        said = f"{shop.name}: " + (
            "vous êtes désabonné." if language == "fr" else "you are unsubscribed."
        )
        answer = self._message(shop, customer, "keyword_answer", "transactional", at, body=said)
        self.steps.outbound(answer, "delivered", at + timedelta(seconds=2))
        return 2

    def _opt_out(self, phone: str, shop_id: int, raw: str, source: str, at: datetime) -> None:
        row = self.opted_out.setdefault(phone, [True, at, at])
        row[0], row[2] = True, at
        self.opt_events.append((phone, "opt_out", shop_id, raw, source, at))

    def pick(self) -> tuple[Shop, tuple]:
        """Return a shop (by its size) and one of its customers (a few get many messages)."""
        rng = self.rng
        shop = self.shops[min(bisect.bisect(self.cum, rng.random()), len(self.shops) - 1)]
        customers = shop.customers
        return shop, customers[int(len(customers) * rng.random() ** 1.6)]

    def one(self, at: datetime) -> int:
        """Add the traffic of one moment: a reply or a transactional message."""
        shop, customer = self.pick()
        if self.rng.random() < plan.INBOUND_SHARE:
            return self.reply(shop, customer, at)
        kind = _KINDS[bisect.bisect(_KIND_CUM, self.rng.random() * _KIND_CUM[-1])]
        return self.send(shop, customer, kind, "transactional", at)
