"""The triggers that keep the report summaries (``report_tables``) as messages are written.

On ``sms_message``: a new message adds its figures (and moves its conversation up the
inbox); a change of what its figures read (``report_sql.TRACKED``) takes the old figures
back and adds the new ones, and a message that stops being said (Canceled, refused) gives
its conversation's place back to the message said before it. On ``sms_status_change``: the
first Delivered step times the delivery, a failure step dates the failure.

PostgreSQL's triggers are in ``report_pg`` (a few rows of PL/pgSQL for one message, and a
whole statement's new messages at once for a bulk insert); SQLite's here, row by row, over
the same SQL as counting the messages again (``report_sql``). Both fire only for the
columns that matter. ``install(bind)`` creates them (the migration does; a SQLite table
rebuilt by a later migration's batch mode loses its triggers and must call it again),
``uninstall(bind)`` drops them.
"""

from __future__ import annotations

from sqlalchemy import text

from plugins.sms_module.models import report_pg
from plugins.sms_module.models.report_sql import (
    READ,
    TRACKED,
    Dialect,
    append,
    delay_figures,
    expand,
    failure_figures,
    message_figures,
    said,
    step_start,
)

_TRIGGERS = {
    "sms_report_message_inserted": "sms_message",
    "sms_report_message_changed": "sms_message",
    "sms_report_step_added": "sms_status_change",
    "sms_report_delivered": "sms_status_change",
    "sms_report_failed": "sms_status_change",
}


def _conversation_back(d: Dialect, old: str, new: str) -> str:
    """The statement giving a conversation's place back when ``new`` is no longer said."""
    owned = (
        f"s.company_id IS NOT DISTINCT FROM {new}.company_id"
        if d.pg
        else f"s.company_id IS {new}.company_id"
    )
    earlier = (
        f"(SELECT max(s.id) FROM sms_message s WHERE s.phone = {new}.phone AND {owned} "
        f"AND {said('s')})"
    )
    return (
        f"UPDATE sms_report_conversation SET last_id = coalesce({earlier}, last_id) "
        f"WHERE owner = coalesce({new}.company_id, 0) AND phone = {new}.phone "
        f"AND last_id = {new}.id"
    )


def _delay_source(d: Dialect, step: str) -> str:
    start = step_start(d, f"{step}.message_id", f"{step}.at")
    first = (
        f"NOT EXISTS (SELECT 1 FROM sms_status_change o WHERE o.message_id = {step}.message_id "
        f"AND o.status = 'delivered' AND o.id <> {step}.id)"
    )
    return (
        f"(SELECT mm.*, {d.seconds(f'{step}.at', start)} AS delay FROM sms_message mm "
        f"WHERE mm.id = {step}.message_id AND {first}) m"
    )


def _failure_source(step: str) -> str:
    return f"(SELECT mm.* FROM sms_message mm WHERE mm.id = {step}.message_id) m"


def _row(prefix: str, failed_at: str) -> str:
    """A trigger's row as a one-row subquery ``m`` (SQLite has no ``NEW.*``)."""
    listed = ", ".join(f"{prefix}.{c} AS {c}" for c in READ)
    return f"(SELECT {listed}, {failed_at} AS failed_at) m"


def _sqlite() -> list[str]:
    d = Dialect("sqlite")
    inserted = message_figures(d, _row("NEW", "NEW.updated_at"), 1)
    old = message_figures(d, _row("OLD", "NULL"), -1)
    new = message_figures(d, _row("NEW", "NULL"), 1)
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in TRACKED)
    return [
        f"""CREATE TRIGGER sms_report_message_inserted AFTER INSERT ON sms_message BEGIN
  {append(expand(inserted))};
  INSERT INTO sms_report_conversation (owner, phone, last_id)
    SELECT coalesce(NEW.company_id, 0), NEW.phone, NEW.id WHERE NEW.direction = 'inbound'
    ON CONFLICT (owner, phone) DO UPDATE SET last_id = max(last_id, excluded.last_id);
  UPDATE sms_report_conversation SET last_id = NEW.id
    WHERE owner = coalesce(NEW.company_id, 0) AND phone = NEW.phone AND last_id < NEW.id
    AND NEW.direction <> 'inbound' AND {said("NEW")};
  {report_pg.zone_recorded("SELECT NEW.company_id")};
END""",
        f"""CREATE TRIGGER sms_report_message_changed AFTER UPDATE OF {", ".join(TRACKED)}
ON sms_message WHEN {changed} BEGIN
  {append(expand(old) + " UNION ALL " + expand(new))};
  {_conversation_back(d, "OLD", "NEW")} AND {said("OLD")} AND NOT {said("NEW")};
END""",
        f"""CREATE TRIGGER sms_report_delivered AFTER INSERT ON sms_status_change
WHEN NEW.status = 'delivered' BEGIN
  {append(expand(delay_figures(d, _delay_source(d, "NEW")), ("shop", "platform")))};
END""",
        f"""CREATE TRIGGER sms_report_failed AFTER INSERT ON sms_status_change
WHEN NEW.status IN ('undelivered', 'failed') BEGIN
  {append(expand(failure_figures(d, _failure_source("NEW"), "NEW.at"), ("shop", "platform")))};
END""",
    ]


def install(bind) -> None:
    """Create (again) the summary triggers on ``bind`` (a connection or a session)."""
    uninstall(bind)
    name = bind.get_bind().dialect.name if hasattr(bind, "get_bind") else bind.dialect.name
    for statement in report_pg.statements() if name == "postgresql" else _sqlite():
        bind.execute(text(statement))


def uninstall(bind) -> None:
    """Drop the summary triggers and their functions, where they exist."""
    name = bind.get_bind().dialect.name if hasattr(bind, "get_bind") else bind.dialect.name
    for trigger, table in _TRIGGERS.items():
        if name == "postgresql":
            bind.execute(text(f"DROP TRIGGER IF EXISTS {trigger} ON {table}"))
        else:
            bind.execute(text(f"DROP TRIGGER IF EXISTS {trigger}"))
    if name == "postgresql":
        for function in report_pg.FUNCTIONS:
            bind.execute(text(f"DROP FUNCTION IF EXISTS {function}"))
