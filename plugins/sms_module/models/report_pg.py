"""The report summaries' triggers on PostgreSQL (``report_triggers`` says what they keep).

A status change, a history step and a message inserted alone are counted by a few lines of
PL/pgSQL with one INSERT of a handful of rows (a status change costs the webhook and the
send path a fraction of a millisecond, no statement of their own); a statement inserting
many messages (a campaign's fan-out, a seed) is counted set-based, over its rows at once
(``report_sql``).
"""

from __future__ import annotations

from plugins.sms_module.models.report_sql import (
    COLUMNS,
    Dialect,
    append,
    expand,
    failing,
    message_figures,
    refused,
    said,
)

ONE_BY_ONE = 8  # a statement inserting at most this many messages counts them one by one
# The zone ``z`` of message ``m``'s shop (none for the operator's messages: their days are UTC).
_ZONE = (
    "IF m.company_id IS NOT NULL THEN SELECT r.zone INTO z FROM company c "
    "JOIN sms_report_region r ON r.country_code = c.country "
    "AND r.province_code = c.province WHERE c.id = m.company_id; END IF"
)
_ROW = "(view, company_id, day, queue, status, code, currency, bucket, messages, charged, "
_ROW += "attempts, segments, cost, low, high, last_at, reason, keep)"


def _add_message() -> str:
    """``sms_report_add(m, sign, failed_at)``: what message ``m`` counts for, times
    ``sign`` (-1 takes it back), its failure last seen at ``failed_at``. (``anyelement``,
    not ``sms_message``: a function taking a table's row type would stop the table from
    being dropped.)"""
    status = f"CASE WHEN {refused('m')} THEN 'refused' ELSE m.status END"
    code = f"CASE WHEN {failing('m')} THEN coalesce(m.failure_code, '') ELSE '' END"
    charged = "(CASE WHEN m.attempts > 0 THEN 1 ELSE 0 END)"
    sums = f"sgn, sgn * {charged}, sgn * m.attempts, sgn * m.segments * m.attempts, "
    sums += "sgn * m.price * m.attempts"
    last = f"CASE WHEN {failing('m')} THEN failed END"
    reason = f"CASE WHEN sgn > 0 AND {failing('m')} THEN m.failure_reason END"
    utc = "(m.created_at AT TIME ZONE 'UTC')::date"
    local = "(m.created_at AT TIME ZONE coalesce(z, 'UTC'))::date"
    same = f"{sums}, NULL::double precision, NULL::double precision, {last}, {reason}"
    return f"""CREATE OR REPLACE FUNCTION sms_report_add(m anyelement, sgn integer,
  failed timestamptz) RETURNS void LANGUAGE plpgsql AS $f$
DECLARE
  z text;
BEGIN
  IF m.direction <> 'outbound' THEN
    RETURN;
  END IF;
  {_ZONE};
  INSERT INTO sms_report_delta ({COLUMNS})
  SELECT {COLUMNS} FROM (VALUES
    (1, m.company_id, {local}, m.queue, {status}, {code}, m.currency, -1, {same},
     m.company_id IS NOT NULL),
    (2, 0, {utc}, m.queue, {status}, {code}, m.currency, -1, {same}, true),
    (2, m.company_id, {utc}, m.queue, '', '', m.currency, -1, {sums}, NULL, NULL, NULL, NULL,
     m.company_id IS NOT NULL AND m.attempts > 0)
  ) v {_ROW} WHERE keep;
END $f$"""


def _add_step() -> str:
    """``sms_report_step(step)``: the first Delivered step times its delivery (from the
    message's last Sending before it, else its first Sent); a failure step dates its
    message's failure.

    Whether the step is the first Delivered one and when the delivery began are read in one
    pass over the message's own history (a handful of rows, by ``message_id`` only). Three
    lookups that each named a status let the planner, on a history table whose statistics
    were not gathered yet (a new or freshly filled database), walk that status's index
    across every message's history: a delivery report cost more as the table grew (issue
    14, point 5)."""
    history = (
        "SELECT count(*) FILTER (WHERE s.status = 'delivered' AND s.id <> step.id), "
        "coalesce(max(s.at) FILTER (WHERE s.status = 'sending' AND s.at <= step.at), "
        "min(s.at) FILTER (WHERE s.status = 'sent' AND s.at <= step.at)) "
        "INTO others, began FROM sms_status_change s WHERE s.message_id = m.id"
    )
    utc = "(m.created_at AT TIME ZONE 'UTC')::date"
    local = "(m.created_at AT TIME ZONE coalesce(z, 'UTC'))::date"
    status = "m.status"
    code = "coalesce(m.failure_code, '')"
    return f"""CREATE OR REPLACE FUNCTION sms_report_step(step anyelement)
RETURNS void LANGUAGE plpgsql AS $f$
DECLARE
  m sms_message;
  z text;
  began timestamptz;
  others bigint;
  secs double precision;
BEGIN
  SELECT * INTO m FROM sms_message WHERE id = step.message_id;
  IF NOT FOUND OR m.direction <> 'outbound' THEN
    RETURN;
  END IF;
  IF step.status = 'delivered' THEN
    IF m.status <> 'delivered' THEN
      RETURN;
    END IF;
    {history};
    IF others > 0 OR began IS NULL THEN
      RETURN;
    END IF;
    {_ZONE};
    secs := greatest(0, EXTRACT(EPOCH FROM step.at - began)::double precision);
    INSERT INTO sms_report_delta ({COLUMNS})
    SELECT {COLUMNS} FROM (VALUES
      (1, m.company_id, {local}, m.queue, 'delivered', '', '', floor(20 * log(1 + secs)),
       1, 0, 0, 0, 0, secs, secs, NULL::timestamptz, NULL::text, m.company_id IS NOT NULL),
      (2, 0, {utc}, m.queue, 'delivered', '', '', floor(20 * log(1 + secs)),
       1, 0, 0, 0, 0, secs, secs, NULL, NULL, true)
    ) v {_ROW} WHERE keep;
  ELSIF {failing("m")} THEN
    {_ZONE};
    INSERT INTO sms_report_delta ({COLUMNS})
    SELECT {COLUMNS} FROM (VALUES
      (1, m.company_id, {local}, m.queue, {status}, {code}, m.currency, -1, 0, 0, 0, 0, 0,
       NULL::double precision, NULL::double precision, step.at, NULL::text,
       m.company_id IS NOT NULL),
      (2, 0, {utc}, m.queue, {status}, {code}, m.currency, -1, 0, 0, 0, 0, 0,
       NULL, NULL, step.at, NULL, true)
    ) v {_ROW} WHERE keep;
  END IF;
END $f$"""


def zone_recorded(shops: str) -> str:
    """The statement noting the zone a shop's first counted message used (``repair_shop``
    compares it with the shop's zone)."""
    return (
        "INSERT INTO sms_report_shop (company_id, zone) "
        "SELECT c.id, coalesce(r.zone, 'UTC') FROM company c "
        "LEFT JOIN sms_report_region r "
        "ON r.country_code = c.country AND r.province_code = c.province "
        f"WHERE c.id IN ({shops}) ON CONFLICT (company_id) DO NOTHING"
    )


def _conversation(m: str) -> str:
    """The statements moving ``m``'s conversation up the inbox (an inbound message makes
    one; a message said moves it up)."""
    return f"""IF {m}.direction = 'inbound' THEN
      INSERT INTO sms_report_conversation (owner, phone, last_id)
      VALUES (coalesce({m}.company_id, 0), {m}.phone, {m}.id)
      ON CONFLICT (owner, phone) DO UPDATE
      SET last_id = greatest(sms_report_conversation.last_id, excluded.last_id);
    ELSIF {said(m)} THEN
      UPDATE sms_report_conversation SET last_id = {m}.id
      WHERE owner = coalesce({m}.company_id, 0) AND phone = {m}.phone AND last_id < {m}.id;
    END IF"""


def statements() -> list[str]:
    """The functions and triggers, in the order they are created."""
    d = Dialect("postgresql")
    bulk = message_figures(d, "(SELECT n.*, n.updated_at AS failed_at FROM new_rows n) m", 1)
    changed = " OR ".join(
        f"OLD.{c} IS DISTINCT FROM NEW.{c}"
        for c in ("company_id", "direction", "queue", "status", "failure_code", "attempts")
        + ("segments", "price", "currency", "created_at")
    )
    back = (
        "UPDATE sms_report_conversation SET last_id = coalesce((SELECT max(s.id) FROM "
        "sms_message s WHERE s.phone = NEW.phone AND s.company_id IS NOT DISTINCT FROM "
        f"NEW.company_id AND {said('s')}), last_id) WHERE owner = coalesce(NEW.company_id, 0) "
        "AND phone = NEW.phone AND last_id = NEW.id"
    )
    return [
        _add_message(),
        _add_step(),
        f"""CREATE OR REPLACE FUNCTION sms_report_message_inserted() RETURNS trigger
LANGUAGE plpgsql AS $f$
DECLARE
  added sms_message;
BEGIN
  IF (SELECT count(*) FROM (SELECT 1 FROM new_rows LIMIT {ONE_BY_ONE + 1}) n) <= {ONE_BY_ONE} THEN
    FOR added IN SELECT * FROM new_rows LOOP
      PERFORM sms_report_add(added, 1, added.updated_at);
      {_conversation("added")};
      IF added.company_id IS NOT NULL AND NOT EXISTS (
          SELECT 1 FROM sms_report_shop WHERE company_id = added.company_id) THEN
        {zone_recorded("added.company_id")};
      END IF;
    END LOOP;
    RETURN NULL;
  END IF;
  {append(expand(bulk))};
  INSERT INTO sms_report_conversation (owner, phone, last_id)
    SELECT coalesce(company_id, 0), phone, max(id) FROM new_rows WHERE direction = 'inbound'
    GROUP BY coalesce(company_id, 0), phone
    ON CONFLICT (owner, phone) DO UPDATE
    SET last_id = greatest(sms_report_conversation.last_id, excluded.last_id);
  UPDATE sms_report_conversation c SET last_id = n.last_id
    FROM (SELECT coalesce(m.company_id, 0) AS owner, m.phone, max(m.id) AS last_id
          FROM new_rows m WHERE m.direction <> 'inbound' AND {said("m")}
          GROUP BY coalesce(m.company_id, 0), m.phone) n
    WHERE c.owner = n.owner AND c.phone = n.phone AND c.last_id < n.last_id;
  {zone_recorded("SELECT company_id FROM new_rows WHERE company_id IS NOT NULL")};
  RETURN NULL;
END $f$""",
        f"""CREATE OR REPLACE FUNCTION sms_report_message_changed() RETURNS trigger
LANGUAGE plpgsql AS $f$
BEGIN
  PERFORM sms_report_add(OLD, -1, NULL);
  PERFORM sms_report_add(NEW, 1, NULL);
  IF {said("OLD")} AND NOT {said("NEW")} THEN
    {back};
  END IF;
  RETURN NULL;
END $f$""",
        """CREATE OR REPLACE FUNCTION sms_report_step_added() RETURNS trigger
LANGUAGE plpgsql AS $f$
BEGIN
  PERFORM sms_report_step(NEW);
  RETURN NULL;
END $f$""",
        "CREATE TRIGGER sms_report_message_inserted AFTER INSERT ON sms_message "
        "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
        "EXECUTE FUNCTION sms_report_message_inserted()",
        f"CREATE TRIGGER sms_report_message_changed AFTER UPDATE ON sms_message "
        f"FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION sms_report_message_changed()",
        "CREATE TRIGGER sms_report_step_added AFTER INSERT ON sms_status_change "
        "FOR EACH ROW WHEN (NEW.status IN ('delivered', 'undelivered', 'failed')) "
        "EXECUTE FUNCTION sms_report_step_added()",
    ]


FUNCTIONS = (
    "sms_report_message_inserted()",
    "sms_report_message_changed()",
    "sms_report_step_added()",
    "sms_report_add(anyelement, integer, timestamptz)",
    "sms_report_step(anyelement)",
)
