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
    SmsCampaign,
    SmsMessage,
    SmsStatusChange,
)
from plugins.sms_module.seed_bench import people, plan
from plugins.sms_module.seed_bench.ready import check
from plugins.sms_module.seed_bench.steps import CHANGE_COLUMNS, MESSAGE_COLUMNS, Steps
from plugins.sms_module.seed_bench.traffic import Traffic
from plugins.sms_module.seed_bench.writer import Writer, count_messages
from plugins.sms_module.texts.pricing import pricing

FLUSH_EVERY = 20_000  # messages per COPY and commit
BUSINESS_HOURS = 12  # the traffic of a day falls in 12 hours, from 12:00 UTC (8:00 in Quebec)


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

    Raises what ``ready.check`` raises, before writing anything: ``ValueError`` (sizes out
    of bounds), ``NotMigrated``, ``AlreadySeeded`` (messages are there and ``append`` is
    false), ``NotReady`` (a pool has no enabled sender number)."""
    pools = check(messages, shops, append)
    began = time.monotonic()
    rng = random.Random(random_seed + count_messages())
    end = utcnow()
    start = end - timedelta(days=days)
    made = people.make_shops(shops, messages, start, rng)
    people.add_campaigns(made, start, days, rng)
    counts = {
        "company": len(made),
        "company_option": len(made),
        "user": len(made) * len(people.ROLES),
        "sms_campaign": sum(len(shop.campaigns) for shop in made),
    }
    # The reports' summary triggers would run once per row: when the summaries are rebuilt
    # from the rows at the end, PostgreSQL's COPY skips them (and the rows' FK triggers).
    writer = Writer(skip_triggers=_summary_rebuild() is not None)
    try:
        counts["customer"], given = people.add_customers(writer, made, messages, start, rng)
        first_change = writer.next_id(SmsStatusChange.__table__)
        steps = Steps(writer.next_id(SmsMessage.__table__), first_change, rng, end)
        traffic = Traffic(made, pools, pricing(), steps, rng, start, end)
        added = _messages(traffic, writer, messages, start, days, progress)
        counts.update(sms_message=added, sms_status_change=steps.next_change - first_change)
        counts.update(_ledgers(traffic, writer))
        counts["sms_consent_event"] += given  # the consents given, before the period
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
    # The ledger is append-only: its lines go in in the order of their moments, so a
    # customer's history reads in order (a withdrawal after the disclaimers before it).
    first = writer.next_id(ConsentEvent.__table__)
    consents = [
        (first + i, shop, customer, phone, kind, None, at, reference, text, at)
        for i, (shop, customer, phone, kind, text, at, reference) in enumerate(
            sorted(traffic.consents, key=lambda line: line[5])
        )
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
