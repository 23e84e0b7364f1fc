"""Seeding a database for the benchmarks: shops, customers, messages with their history,
conversations, opt-outs and the consent ledger, in bulk (issue 14, point 3)."""

from __future__ import annotations

import importlib
import random
import time
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import func, select

from host.api import db, utcnow
from plugins.sms_module.models import (
    ConsentEvent,
    Conversation,
    OptOut,
    OptOutEvent,
    SenderNumber,
    SmsCampaign,
    SmsMessage,
    SmsStatusChange,
)
from plugins.sms_module.seed_bench import people, plan
from plugins.sms_module.seed_bench.steps import CHANGE_COLUMNS, MESSAGE_COLUMNS, Steps
from plugins.sms_module.seed_bench.traffic import Traffic
from plugins.sms_module.seed_bench.writer import Writer, count_messages
from plugins.sms_module.texts.pricing import pricing

FLUSH_EVERY = 20_000  # messages per COPY and commit
BUSINESS_HOURS = 12  # the traffic of a day falls in 12 hours, from 12:00 UTC (8:00 in Quebec)


class AlreadySeeded(RuntimeError):
    """The database already holds messages, and appending was not asked."""


def seed(
    messages: int,
    shops: int = 20,
    *,
    append: bool = False,
    days: int = 90,
    random_seed: int = 14,
    progress: Callable[[int], None] = lambda added: None,
) -> tuple[dict[str, int], dict[str, float]]:
    """Add ``shops`` shops and ``messages`` messages spread over the last ``days`` days to
    the app's database (migrated), with their history (≈4 rows each), customers,
    conversations, opt-outs and consent ledger; commit. ``progress`` is told how many
    messages each step added. Returns the rows added by table, and the seconds spent on
    the rows, the reports' summaries and ANALYZE.

    Raises ``AlreadySeeded`` when messages are there and ``append`` is false; ``ValueError``
    for fewer than 1 message or shop."""
    if messages < 1 or shops < 1:
        raise ValueError("seed-bench needs at least one message and one shop")
    if count_messages() and not append:
        raise AlreadySeeded("The database already holds messages: use --append to add more.")
    began = time.monotonic()
    rng = random.Random(random_seed + count_messages())
    end = utcnow()
    start = end - timedelta(days=days)
    made = people.make_shops(shops, messages, start, rng)
    people.add_campaigns(made, start, days, rng)
    # The reports' summary triggers would run once per row: when the summaries are rebuilt
    # from the rows at the end, PostgreSQL's COPY skips them (and the rows' FK triggers).
    writer = Writer(skip_triggers=_summary_rebuild() is not None)
    try:
        counts = {"customer": people.add_customers(writer, made, messages, start, rng)}
        steps = Steps(
            writer.next_id(SmsMessage.__table__),
            writer.next_id(SmsStatusChange.__table__),
            rng,
            end,
        )
        traffic = Traffic(made, _pools(), pricing(), steps, rng, start, end)
        added = _messages(traffic, writer, messages, start, days, progress)
        counts.update(sms_message=added, sms_status_change=steps.next_change - 1)
        counts.update(_ledgers(traffic, writer))
        writer.commit()
        writer.fix_sequences()
        _campaign_counts(made)
        seconds = {"rows": time.monotonic() - began}
        _rebuild_summaries()
        seconds["summaries"] = time.monotonic() - began - seconds["rows"]
        writer.analyze()
        seconds["analyze"] = time.monotonic() - began - seconds["rows"] - seconds["summaries"]
    finally:
        writer.close()
    return counts, seconds


def _pools() -> dict[str, list[tuple[int, str]]]:
    """Return the enabled numbers of each queue (``sending.pools``: migration-seeded)."""
    rows = db.session.execute(
        select(SenderNumber.id, SenderNumber.number, SenderNumber.queue)
        .where(SenderNumber.enabled.is_(True))
        .order_by(SenderNumber.id)
    )
    pools: dict[str, list[tuple[int, str]]] = {"transactional": [], "promotional": []}
    for number_id, number, queue in rows:
        pools[str(queue.value if hasattr(queue, "value") else queue)].append((number_id, number))
    if not pools["transactional"] or not pools["promotional"]:
        raise RuntimeError("seed-bench needs a sender number in each pool: crmhost db upgrade")
    return pools


def _campaign_events(traffic: Traffic, total: int, rng) -> list[tuple]:
    """Return (moment, shop, customer, campaign) of every campaign message, by moment."""
    events = []
    for shop in traffic.shops:
        if not shop.campaigns:
            continue
        per = round(total * plan.CAMPAIGN_SHARE * 2 * shop.share / len(shop.campaigns))
        for campaign_id in shop.campaigns:
            campaign = db.session.get(SmsCampaign, campaign_id)
            chosen = rng.sample(shop.customers, min(per, len(shop.customers)))
            for i, customer in enumerate(chosen):
                at = campaign.send_at + timedelta(seconds=i / 2)  # 2 numbers at 1 segment/s
                events.append((min(at, traffic.end), shop, customer, campaign_id))
    db.session.commit()  # end the read: the session holds no snapshot while the rows go in
    events.sort(key=lambda e: e[0])
    return events[: total // 3]


def _messages(traffic: Traffic, writer: Writer, total: int, start, days, progress) -> int:
    """Add ``total`` messages in the order of their moments; return how many."""
    campaign = _campaign_events(traffic, total, traffic.rng)
    business = timedelta(hours=BUSINESS_HOURS) * days
    first_day = start.replace(hour=12, minute=0, second=0, microsecond=0)
    added = flushed = c = 0
    while added < total:
        spent = business * (added / total)
        day, offset = divmod(spent, timedelta(hours=BUSINESS_HOURS))
        at = first_day + timedelta(days=day) + offset
        traffic.room = total - added
        if c < len(campaign) and campaign[c][0] <= at:
            moment, shop, customer, campaign_id = campaign[c]
            c += 1
            added += traffic.send(shop, customer, "campaign", "promotional", moment, campaign_id)
        else:
            added += traffic.one(at)
        if added - flushed >= FLUSH_EVERY or added >= total:
            rows, changes = traffic.steps.take()
            writer.write(SmsMessage.__table__, MESSAGE_COLUMNS, rows)
            writer.write(SmsStatusChange.__table__, CHANGE_COLUMNS, changes)
            writer.commit()
            progress(added - flushed)
            flushed = added
    return added


def _ledgers(traffic: Traffic, writer: Writer) -> dict[str, int]:
    """Write the conversations, opt-out list and events and consent lines of the traffic."""
    first = writer.next_id(Conversation.__table__)
    conversations = [
        (first + i, shop_id, phone, queue, number[0], last)
        for i, ((shop_id, phone, queue), (number, last)) in enumerate(traffic.conversations.items())
    ]
    writer.write(
        Conversation.__table__,
        ("id", "company_id", "phone", "queue", "sender_number_id", "last_message_at"),
        conversations,
    )
    first = writer.next_id(OptOut.__table__)
    opt_outs = [
        (first + i, phone, active, created, updated)
        for i, (phone, (active, created, updated)) in enumerate(traffic.opted_out.items())
    ]
    writer.write(OptOut.__table__, ("id", "phone", "active", "created_at", "updated_at"), opt_outs)
    first = writer.next_id(OptOutEvent.__table__)
    events = [(first + i, *row) for i, row in enumerate(traffic.opt_events)]
    writer.write(
        OptOutEvent.__table__,
        ("id", "phone", "action", "company_id", "raw_message", "source", "at"),
        events,
    )
    first = writer.next_id(ConsentEvent.__table__)
    consents = [
        (first + i, shop, customer, phone, kind, None, at, None, text, at)
        for i, (shop, customer, phone, kind, text, at) in enumerate(traffic.consents)
    ]
    writer.write(ConsentEvent.__table__, people.CONSENT_COLUMNS, consents)
    return {
        "sms_conversation": len(conversations),
        "sms_opt_out": len(opt_outs),
        "sms_opt_out_event": len(events),
        "sms_consent_event": len(consents),
    }


def _campaign_counts(made) -> None:
    """Record each seeded campaign's recipients, as its fan-out would have."""
    for shop in made:
        for campaign_id in shop.campaigns:
            campaign = db.session.get(SmsCampaign, campaign_id)
            campaign.recipients = db.session.scalar(
                select(func.count()).where(SmsMessage.campaign_id == campaign_id)
            )
    db.session.commit()


def _summary_rebuild() -> Callable | None:
    """Return the reports' ``rebuild_summaries(session)``, when the reports keep summaries."""
    try:
        summary = importlib.import_module("plugins.sms_module.reports.summary")
    except ModuleNotFoundError:
        return None
    return getattr(summary, "rebuild_summaries", None)


def _rebuild_summaries() -> None:
    """Rebuild the reports' summary rows from the messages, when the reports keep some."""
    rebuild = _summary_rebuild()
    if rebuild is not None:
        rebuild(db.session)
        db.session.commit()


def described(counts: dict[str, int], seconds: dict[str, float]) -> str:
    """Say what ``seed`` added and how fast: rows by table, rows/s and messages/s."""
    rows, spent = sum(counts.values()), max(seconds["rows"], 1e-9)
    return "\n".join(
        [
            ", ".join(f"{count:,} {table}" for table, count in counts.items()),
            f"{seconds['rows']:.1f} s for the rows ({rows / spent:,.0f} rows/s, "
            f"{counts['sms_message'] / spent:,.0f} messages/s), "
            f"{seconds['summaries']:.1f} s for the reports' summaries, "
            f"{seconds['analyze']:.1f} s for ANALYZE",
        ]
    )
