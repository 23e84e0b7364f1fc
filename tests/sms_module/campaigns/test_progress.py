"""How far each campaign went: the list counts messages by outcome in bounded queries, and
the campaign's page gives, afterwards, each outcome's count and the actual cost."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import event

from host.extensions import db
from host.models import Company, Customer
from plugins.sms_module import campaigns, jobs
from plugins.sms_module.models import SmsMessage, Source, Status, lifecycle
from tests.sms_module.campaigns.support import add_customer, campaign_messages, new_campaign
from tests.support_pages import page_text
from tests.support_pipeline import message
from tests.support_sms import login_en, mark_disclaimed


def test_the_list_counts_by_status_in_bounded_queries(app, client, shops, audience):
    with app.app_context():
        first = new_campaign(shops["a"]["shop"], name="First")
        campaigns.prepare(first)
        [sent] = [m for m in campaign_messages(first) if m.customer_id == audience["known"]]
        jobs.send_message(sent.id)
    login_en(client, shops["a"]["admin"])

    def statements() -> int:
        seen = []
        with app.app_context():
            engine = db.engine
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert client.get("/sms/campaigns/").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(seen)

    few = statements()
    with app.app_context():
        for n in range(8):
            campaigns.prepare(new_campaign(shops["a"]["shop"], name=f"More {n}"))
    assert statements() == few  # no query per campaign
    listing = client.get("/sms/campaigns/").text
    row = listing[listing.index(f'data-campaign="{first}"') :]
    row = row[: row.index("</tr>")]
    for bucket, expected in {"waiting": 1, "sent": 1, "refused": 2, "failed": 0}.items():
        assert f'data-bucket="{bucket}">{expected}<' in row
    assert listing.index("More 7") < listing.index(f'data-campaign="{first}"')  # newest first


def test_afterwards_the_page_gives_each_outcome_and_the_actual_cost(app, client, shops, audience):
    """Delivered, undelivered, refused, canceled and waiting are counted apart, and the cost
    is what every delivery attempt cost: the campaign's messages and its disclaimer."""
    with app.app_context():
        a = shops["a"]["shop"]
        late = add_customer(a, "Late", "+15145550231")
        gone = add_customer(a, "Gone", "+15145550232")
        shop = db.session.get(Company, a)
        for customer_id in (late, gone):  # phones the shop texted before: no disclaimer
            customer = db.session.get(Customer, customer_id)
            mark_disclaimed(shop, customer, customer.mobile_phone)
        cid = new_campaign(a, name="Outcomes")
        campaigns.prepare(cid)
        mine = {m.customer_id: m.id for m in campaign_messages(cid) if m.kind == "campaign"}
        # "new" (its disclaimer first) is delivered, "known" undelivered, "late" waits.
        [note] = [m.id for m in campaign_messages(cid) if m.kind == "disclaimer"]
        assert jobs.send_message(note) == "sent"
        for key in ("new", "known"):
            assert jobs.send_message(mine[audience[key]]) == "sent"
        delivered, undelivered = message(mine[audience["new"]]), message(mine[audience["known"]])
        canceled = db.session.get(SmsMessage, mine[gone])
        lifecycle.move(delivered, Status.DELIVERED, Source.PROVIDER_CALLBACK)
        lifecycle.fail(
            undelivered, "30003", "Unreachable", Source.PROVIDER_CALLBACK, status=Status.UNDELIVERED
        )
        lifecycle.move(canceled, Status.CANCELED, Source.STAFF, "test")
        db.session.commit()
        found = campaigns.outcomes([cid])[cid]
        assert found.counts == {
            "waiting": 1,  # Late
            "sent": 0,
            "delivered": 1,
            "failed": 1,
            "refused": 2,  # no consent, opted out
            "canceled": 1,
        }
        assert mine[late] and found.disclaimers == 1
        # Three attempts (the disclaimer and two messages), each of one segment at 0.01.
        assert found.cost == Decimal("0.03")
    login_en(client, shops["a"]["admin"])
    page = page_text(client.get(f"/sms/campaigns/{cid}"))
    assert '<span id="campaign-cost-actual">$0.03</span>' in page
    assert '<span id="campaign-disclaimers">1</span>' in page
    for bucket, expected in {"delivered": 1, "failed": 1, "refused": 2, "canceled": 1}.items():
        assert f'data-bucket="{bucket}">{expected}<' in page
