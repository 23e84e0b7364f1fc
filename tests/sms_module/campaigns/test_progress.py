"""How far each campaign went: the list counts messages by status in bounded queries."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from host.extensions import db
from plugins.sms_module import campaigns, jobs
from tests.sms_module.campaigns.support import (
    campaign_messages,
    new_campaign,
    quiet_hours_away_from_now,
)
from tests.support_pipeline import in_process_app
from tests.support_sms import login_en


@pytest.fixture
def app(make_app, redis_url):
    """Campaigns due now are due now (no quiet hours around), one message per send job."""
    return in_process_app(make_app, SMS_RETRY_BASE_SECONDS=0.01, **quiet_hours_away_from_now())


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
    assert listing.index("More 7") < listing.index("First")  # newest first
