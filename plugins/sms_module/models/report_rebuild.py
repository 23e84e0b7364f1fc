"""Counting the report summaries (``report_tables``) from the messages themselves, and
folding the triggers' deltas into them.

- ``rebuild_summaries(bind)``: every summary row and the inbox's order counted again from
  ``sms_message`` and its history, set-based (the migration calls it, and so does
  ``crmhost sms seed-bench`` after its bulk inserts);
- ``repair_shop(session, company)``: a shop's days counted again when its time zone is not
  the one they were counted in (a shop that moved, a region no shop was in before);
- ``compact(session)``: the deltas folded into the day rows (a periodic task).

On PostgreSQL, each takes the same advisory lock, and counts and empties the deltas in one
statement: a change committed meanwhile is counted once, either way.
"""

from __future__ import annotations

from sqlalchemy import select, text

from host.api import Company
from plugins.sms_module.models.report_sql import (
    COLUMNS,
    KEY,
    Dialect,
    delay_figures,
    expand,
    grouped,
    message_figures,
    pregrouped,
    said,
)
from plugins.sms_module.models.report_tables import SmsReportRegion, SmsReportShop

LOCK = 7_314_001  # the advisory lock of the summaries' writers (PostgreSQL)
_FAILING = "('undelivered', 'failed')"


def _dialect(bind) -> Dialect:
    engine = bind.get_bind() if hasattr(bind, "get_bind") else bind
    return Dialect(engine.dialect.name)


def _lock(bind, d: Dialect) -> None:
    if d.pg:
        bind.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK})


def _messages(where: str) -> str:
    """The messages as the figures read them, with when each failure was last seen."""
    failed_at = (
        f"CASE WHEN m0.status IN {_FAILING} THEN coalesce((SELECT max(s.at) FROM "
        f"sms_status_change s WHERE s.message_id = m0.id AND s.status IN {_FAILING}), "
        "m0.updated_at) END"
    )
    return f"(SELECT m0.*, {failed_at} AS failed_at FROM sms_message m0 WHERE {where}) m"


def _delays(d: Dialect, where: str) -> str:
    """The delivered messages with their time to delivery, from their whole history."""
    steps = (
        "SELECT message_id, min(CASE WHEN status = 'delivered' THEN at END) AS done, "
        "max(CASE WHEN status = 'sending' THEN at END) AS sending, "
        "min(CASE WHEN status = 'sent' THEN at END) AS sent FROM sms_status_change "
        "WHERE status IN ('delivered', 'sending', 'sent') "
        f"AND message_id IN (SELECT m0.id FROM sms_message m0 WHERE {where}) GROUP BY message_id"
    )
    start = "CASE WHEN h.sending <= h.done THEN h.sending WHEN h.sent <= h.done THEN h.sent END"
    timed = (
        f"SELECT m0.*, h.done, {start} AS began FROM sms_message m0 "
        f"JOIN ({steps}) h ON h.message_id = m0.id WHERE m0.status = 'delivered' AND {where}"
    )
    delay = f"CASE WHEN t0.began IS NOT NULL THEN {d.seconds('t0.done', 't0.began')} END"
    return f"(SELECT t0.*, {delay} AS delay FROM ({timed}) t0) m"


def _count(bind, d: Dialect, where: str, views: tuple[str, ...], drop_deltas: str) -> None:
    """Insert the day rows of the messages ``where`` selects (``m0``), after removing the
    deltas ``drop_deltas`` selects, in one statement (one snapshot on PostgreSQL). Each
    message is read once: its figures are summed by key before they are spread over the
    views."""
    figures = pregrouped(message_figures(d, _messages(where), 1))
    timed = pregrouped(delay_figures(d, _delays(d, where)))
    rows = expand("SELECT * FROM figs", views)
    rows += " UNION ALL " + expand("SELECT * FROM timed", views[:2])
    counted = f"figs AS MATERIALIZED ({figures}), timed AS MATERIALIZED ({timed})"
    insert = f"INSERT INTO sms_report_day ({COLUMNS}) {grouped(rows)}"
    if d.pg:
        gone = f"gone AS (DELETE FROM sms_report_delta WHERE {drop_deltas})"
        bind.execute(text(f"WITH {gone}, {counted} {insert}"))
    else:
        bind.execute(text(f"DELETE FROM sms_report_delta WHERE {drop_deltas}"))
        bind.execute(text(f"WITH {counted} {insert}"))


def _regions(bind) -> None:
    """Fill ``sms_report_region`` with the zone of every region (country and province) a
    shop is in (``Company.zone``)."""
    regions = bind.execute(
        text("SELECT DISTINCT country, province FROM company WHERE province IS NOT NULL")
    ).all()
    fill_regions(bind, {tuple(r): Company(country=r[0], province=r[1]).zone.key for r in regions})


def fill_regions(bind, zones: dict[tuple[str, str], str]) -> None:
    """Store the zone of each region of ``zones`` ((country, province) codes: IANA name),
    replacing what was stored for them: the migration gives every one the host knows."""
    table = SmsReportRegion.__table__
    for code, area in zones:
        bind.execute(
            table.delete().where(table.c.country_code == code, table.c.province_code == area)
        )
    if zones:
        bind.execute(
            table.insert(),
            [{"country_code": c, "province_code": p, "zone": z} for (c, p), z in zones.items()],
        )


def rebuild_summaries(bind) -> None:
    """Count every summary row and the inbox's order again from the messages and their
    history (``bind``: a session or a connection; the caller commits). Set-based: a few
    statements whatever the number of messages. Raises what the database raises."""
    d = _dialect(bind)
    _lock(bind, d)
    if d.pg:  # after a bulk load the planner has no counts yet: it would guess badly
        for table in ("sms_message", "sms_status_change", "company"):
            bind.execute(text(f"ANALYZE {table}"))
    _regions(bind)
    bind.execute(text("DELETE FROM sms_report_day"))
    _count(bind, d, "1 = 1", ("shop", "platform", "cost"), "1 = 1")
    bind.execute(text("DELETE FROM sms_report_shop"))
    bind.execute(
        text(
            "INSERT INTO sms_report_shop (company_id, zone) SELECT c.id, coalesce(r.zone, 'UTC') "
            "FROM company c LEFT JOIN sms_report_region r "
            "ON r.country_code = c.country AND r.province_code = c.province"
        )
    )
    bind.execute(text("DELETE FROM sms_report_conversation"))
    owner = "coalesce(m.company_id, 0)"
    bind.execute(
        text(
            "INSERT INTO sms_report_conversation (owner, phone, last_id) "
            f"SELECT {owner}, m.phone, max(m.id) FROM sms_message m WHERE {said('m')} "
            f"GROUP BY {owner}, m.phone HAVING max(CASE WHEN m.direction = 'inbound' "
            "THEN 1 ELSE 0 END) = 1"
        )
    )
    if d.pg:  # the planner's counts of the tables just filled
        for table in ("sms_report_day", "sms_report_delta", "sms_report_conversation"):
            bind.execute(text(f"ANALYZE {table}"))


def repair_shop(session, company) -> bool:
    """Count ``company``'s own days again if they were counted in another time zone than
    its own (``Company.zone``: it moved, or its region had no zone in
    ``sms_report_region``), and commit; return whether it did. One cheap read otherwise."""
    expected = company.zone.key
    recorded = session.scalar(
        select(SmsReportShop.zone).where(SmsReportShop.company_id == company.id)
    )
    if recorded is None or recorded == expected:
        return False  # nothing counted yet, or counted in its zone
    d = _dialect(session)
    _lock(session, d)
    shop = f"company_id = {int(company.id)}"
    # The shop's region gets its zone, for the triggers too.
    session.execute(
        text(
            "DELETE FROM sms_report_region WHERE (country_code, province_code) IN "
            f"(SELECT country, province FROM company WHERE id = {int(company.id)})"
        )
    )
    session.execute(
        text(
            "INSERT INTO sms_report_region (country_code, province_code, zone) "
            f"SELECT country, province, :zone FROM company WHERE id = {int(company.id)} "
            "AND country IS NOT NULL AND province IS NOT NULL"
        ),
        {"zone": expected},
    )
    session.execute(text(f"DELETE FROM sms_report_day WHERE view = 1 AND {shop}"))
    _count(session, d, f"m0.{shop}", ("shop",), f"view = 1 AND {shop}")
    session.merge(SmsReportShop(company_id=company.id, zone=expected))
    session.commit()
    return True


def compact(session) -> None:
    """Fold the deltas the triggers appended into the day rows, drop the rows left at
    zero, and commit (the ``sms-report-compact`` periodic task)."""
    d = _dialect(session)
    _lock(session, d)
    sums = ", ".join(
        f"{c} = sms_report_day.{c} + excluded.{c}"
        for c in ("messages", "charged", "attempts", "segments", "cost")
    )
    keep = ", ".join(
        f"{c} = {pick(f'sms_report_day.{c}', f'excluded.{c}')}"
        for c, pick in (
            ("low", d.least),
            ("high", d.greatest),
            ("last_at", d.greatest),
            ("reason", d.greatest),
        )
    )
    upsert = f"ON CONFLICT ({KEY}) DO UPDATE SET {sums}, {keep}"
    if d.pg:
        session.execute(
            text(
                f"WITH moved AS (DELETE FROM sms_report_delta RETURNING {COLUMNS}) "
                f"INSERT INTO sms_report_day ({COLUMNS}) {grouped('SELECT * FROM moved')} {upsert}"
            )
        )
    else:
        top = session.scalar(text("SELECT max(id) FROM sms_report_delta"))
        if top is not None:
            rows = f"SELECT {COLUMNS} FROM sms_report_delta WHERE id <= {int(top)}"
            insert = f"INSERT INTO sms_report_day ({COLUMNS}) {grouped(rows)}"
            session.execute(text(f"{insert} {upsert}"))
            session.execute(text(f"DELETE FROM sms_report_delta WHERE id <= {int(top)}"))
    session.execute(
        text(
            "DELETE FROM sms_report_day WHERE messages = 0 AND charged = 0 AND attempts = 0 "
            "AND segments = 0 AND cost = 0"
        )
    )
    session.commit()
