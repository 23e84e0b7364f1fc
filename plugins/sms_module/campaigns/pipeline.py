"""The fan-out's chunks (issue 14 point 4): read and decided one after the other in the
job's thread, written by ``WRITERS`` transactions at once on PostgreSQL (one elsewhere),
each on a connection of its own, so that the database's work on one chunk and this
process's on the next go on side by side.

A chunk is written without holding the campaign's row, then checked with the row locked
just before its commit (``FOR NO KEY UPDATE``: the lock a shop's cancel or edit takes to
change the row, so either waits for that commit, and that commit for it, in turn): a
canceled campaign's chunk is rolled back whole, one whose texts were edited meanwhile is
written again with the new texts. A cancel therefore waits for one commit at most, never
for the whole fan-out, and no chunk commits after it. Which customers each chunk asks, who
gets the campaign once per phone and which phones get the disclaimer are decided in order,
before the writing (``chunks.Seen``), so two chunks written at once never both take a
phone.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from flask import current_app
from sqlalchemy import select

from host.api import Company, db, utcnow
from plugins.sms_module.campaigns import chunks, rows
from plugins.sms_module.compliance import disclaimer, rules
from plugins.sms_module.models import SmsCampaign
from plugins.sms_module.models.campaigns import CampaignStatus

# Chunks written at once on PostgreSQL (each its own transaction and connection).
WRITERS = 2
# A chunk whose texts keep changing under it is tried this many times.
TRIES = 3
CANCELED = "canceled"
INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class Run:
    """One fan-out run: the campaign, its shop, audience language, author and due time."""

    campaign_id: int
    company_id: int
    language: str | None
    user_id: int | None
    due: datetime


def run(job: Run, stopping: Callable[[], bool], after_chunk: Callable[[], object]) -> str | None:
    """Write every chunk of the campaign not written yet; return None once all are,
    ``CANCELED`` when the campaign is no longer Sending, ``INTERRUPTED`` when ``stopping()``
    said so between two chunks. ``after_chunk`` runs after each chunk committed. Raises
    what a writer raised (a unique key met: another run wrote some of the same customers),
    once every writer stopped."""
    known = chunks.seen(job.company_id, job.campaign_id)
    writers = WRITERS if db.session.get_bind().dialect.name == "postgresql" else 1
    app = current_app._get_current_object()
    pool = ThreadPoolExecutor(writers, "fan-out") if writers > 1 else None
    pending: deque = deque()
    after, outcome = 0, None
    try:
        while outcome is None:
            if stopping():
                outcome = INTERRUPTED
                break
            step = _decide(job, after, known)
            if step is None or step == CANCELED:
                outcome = step
                break
            after, plan, texts = step
            work = partial(_write, job, plan, texts)
            pending.append(pool.submit(_in_context, app, work) if pool else _Done(work()))
            while pending and (len(pending) >= writers or pending[0].done()):
                ended = _ended(pending.popleft().result(), after_chunk)
                outcome = outcome or ended
        while pending:
            ended = _ended(pending.popleft().result(), after_chunk)
            outcome = outcome or ended
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    return outcome


class _Done:
    """A chunk written in this thread (one writer): its result, as a finished future's."""

    def __init__(self, result) -> None:
        self._result = result

    def done(self) -> bool:
        return True

    def result(self):
        return self._result


def _ended(result, after_chunk) -> str | None:
    if result == CANCELED:
        return CANCELED
    after_chunk()
    return None


def _in_context(app, work):
    with app.app_context():
        try:
            return work()
        finally:
            db.session.rollback()


def _decide(job: Run, after: int, known: chunks.Seen):
    """Read and decide the next chunk: (its last customer id, its ``Plan``, the texts it
    was decided with), None once every customer is asked, or ``CANCELED``."""
    texts = _texts(job.campaign_id)
    if texts is None:
        db.session.commit()
        return CANCELED
    company = db.session.get(Company, job.company_id)
    last, customers = chunks.read(company, job.language, after, known)
    if last == after:
        db.session.commit()
        return None
    found = chunks.texts(company, *texts, job.campaign_id)
    refusal = rules.shop_refusal(company)  # switched off since the start: each one refused
    plan = chunks.plan(company, customers, found, refusal.code if refusal is not None else None)
    db.session.commit()
    known.asked.update(row.id for row in customers)
    known.reached.update(row.mobile_phone for row, _ in plan.accepted)
    known.told.update(plan.first_contact)
    return last, plan, texts


def _write(job: Run, plan: chunks.Plan, texts: tuple) -> int | str:
    """Write one chunk in this session's own transaction; return the messages written, or
    ``CANCELED`` (rolled back) when the campaign was canceled meanwhile."""
    company = db.session.get(Company, job.company_id)
    phones = list(plan.first_contact)
    # At most one disclaimer per shop and phone on its way, whoever else writes one (§5).
    with disclaimer.writing_many(job.company_id, phones) as mine:
        told = (set(phones) - mine) | chunks.told_already(job.company_id, sorted(mine))
        for _ in range(TRIES):
            found = chunks.texts(company, *texts, job.campaign_id)
            now = utcnow()
            batch = rows.Batch(job.company_id, job.campaign_id, job.user_id, max(job.due, now), now)
            written, _firsts = rows.write(batch, plan, found, chunks.notes(company), told)
            current = _texts(job.campaign_id, locked=True)
            if current is None:
                db.session.rollback()
                return CANCELED
            if current == texts:
                db.session.commit()
                return written
            db.session.rollback()  # edited meanwhile: this chunk gets the new texts
            texts = current
    raise RuntimeError(f"campaign {job.campaign_id}: its texts keep changing")


def _texts(campaign_id: int, locked: bool = False):
    """Return the campaign's (body, body_fr), or None once it is no longer Sending;
    ``locked``: with its row locked until the commit, as a cancel or an edit locks it."""
    query = select(SmsCampaign.status, SmsCampaign.body, SmsCampaign.body_fr).where(
        SmsCampaign.id == campaign_id
    )
    if locked:
        query = query.with_for_update(key_share=True)
    row = db.session.execute(query).one_or_none()
    if row is None or row.status != CampaignStatus.SENDING:
        return None
    return row.body, row.body_fr
