"""The campaigns' shared fixture: a shop whose customers meet every rule or break one."""

from __future__ import annotations

import pytest

from host.extensions import db
from host.models import Customer
from plugins.sms_module.compliance import opt_out
from tests.sms_module.campaigns.support import add_customer, daytime
from tests.support_pipeline import in_process_app
from tests.support_sms import mark_disclaimed, ready_to_send


@pytest.fixture
def audience(app, shops):
    """Shop A (module on) with: its customer (consent, a phone new to the shop), one with
    consent already disclaimed, one without consent, one opted out, one without phone;
    shop B's customer consents too (module on), and must never get shop A's campaign."""
    with app.app_context():
        company, customer = ready_to_send(shops, "a", disclaimed=False)
        ready_to_send(shops, "b")
        a = shops["a"]["shop"]
        ids = {
            "new": customer.id,
            "known": add_customer(a, "Known", "+15145550201"),
            "no_consent": add_customer(a, "Silent", "+15145550202", consent=False),
            "stopped": add_customer(a, "Stopped", "+15145550203"),
            "no_phone": add_customer(a, "Landline", None),
        }
        known = db.session.get(Customer, ids["known"])
        mark_disclaimed(company, known, known.mobile_phone)
        opt_out.opt_out("+15145550203", "sms_keyword", None, "STOP")
        db.session.commit()
    return ids


@pytest.fixture
def app(make_app, redis_url, time_machine):
    """Campaigns due now are due now: the clock is a weekday morning, shop time (out of the
    quiet hours); one message per send job."""
    daytime(time_machine)
    return in_process_app(make_app, SMS_RETRY_BASE_SECONDS=0.01)
