"""Each rule of ``compliance.rules`` has one home: every path that must obey it asks it.

For each rule, the rule is made to refuse with a code no other code writes (``bypassed?``)
and every path is exercised: a path that re-states the rule instead of asking it lets the
message through, and the test names the rule and the path. A static check then makes sure
the rule's ingredients (option 124, the quiet-hour settings, the 72 hours) are read only in
their home module.
"""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from host.extensions import db
from host.models import Appointment, Company, Customer, Invoice
from plugins.sms_module import campaigns, plugin
from plugins.sms_module.compliance import rules
from plugins.sms_module.compliance.rules import Refusal
from plugins.sms_module.models import SmsCampaign, SmsMessage, Status
from plugins.sms_module.notifications import event_jobs
from plugins.sms_module.sending import send_job, service
from plugins.sms_module.texts.reasons import failure_text
from tests.conftest import login
from tests.support_pipeline import accepted_message, carrier, in_process_app, message
from tests.support_sms import login_en, module_on, ready_to_send

SMS_MODULE = Path(__file__).resolve().parents[3] / "plugins" / "sms_module"
SENTINEL = Refusal("bypassed?", "refused by the rule under test")


@pytest.fixture
def app(make_app):
    return in_process_app(make_app)


@pytest.fixture
def refusing(monkeypatch):
    """Make one rule of ``rules`` refuse everything with ``SENTINEL``."""

    def patch(name: str):
        monkeypatch.setattr(rules, name, lambda *args, **kwargs: SENTINEL)

    return patch


def send(shops) -> service.SendRefused:
    company = db.session.get(Company, shops["a"]["shop"])
    customer = db.session.get(Customer, shops["a"]["customer"])
    with pytest.raises(service.SendRefused) as refused:
        service.request_send(company, customer=customer, body="Votre auto est prete")
    return refused.value


@pytest.mark.parametrize("rule", ["shop_refusal", "consent_refusal", "opt_out_refusal"])
def test_the_send_service_asks_each_rule(app, shops, refusing, rule):
    with app.app_context():
        ready_to_send(shops)
        refusing(rule)
        refused = send(shops)
        assert refused.code == "bypassed?", f"request_send does not ask rules.{rule}"
        kept = db.session.get(SmsMessage, refused.message_id)
        assert (kept.status, kept.failure_code) == (Status.FAILED, "bypassed?")


def test_the_send_job_asks_may_go_now_just_before_the_carrier(app, shops, refusing):
    with app.app_context():
        mid = accepted_message(shops)
        refusing("may_go_now")
        assert send_job.send_message(mid) == "refused: bypassed?"
        found = message(mid)
        assert (found.status, found.failure_code) == (Status.FAILED, "bypassed?")
        # Its code, never the rule's words: read in the reader's language (issue 12).
        assert found.failure_reason == "bypassed?: before_sending"


def test_a_campaign_fan_out_asks_shop_refusal(app, shops, refusing):
    with app.app_context():
        ready_to_send(shops)
        campaign = SmsCampaign(
            company_id=shops["a"]["shop"],
            name="Spring",
            body="Tune-up",
            send_at=datetime(2026, 12, 1, 15, tzinfo=UTC),
        )
        db.session.add(campaign)
        db.session.commit()
        refusing("shop_refusal")
        assert campaigns.prepare(campaign.id) == "stopped: bypassed?"


def test_the_campaign_page_asks_shop_refusal(app, client, shops, refusing):
    with app.app_context():
        ready_to_send(shops)
    login(client, shops["a"]["admin"])
    refusing("shop_refusal")
    response = client.post("/sms/campaigns/", data={"name": "Spring", "body": "Tune-up"})
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(SmsCampaign.id)) is None


def test_the_company_page_asks_company_veto(app, client, shops, monkeypatch):
    monkeypatch.setattr(rules, "company_veto", lambda *args: {"v2v_number": "VETO-SENTINEL"})
    login_en(client, shops["a"]["admin"])
    data = {"name": "Garage A", "v2v_number": "", "country": "CA", "province": "QC"}
    response = client.post(f"/companies/{shops['a']['shop']}", data=data)
    assert "VETO-SENTINEL" in response.get_data(as_text=True), "the hook does not ask the rule"
    assert response.status_code == 422


@pytest.mark.parametrize(
    "path", ["/sms/customers/{customer}", "/sms/settings/", "/sms/campaigns/", "/sms/replies/"]
)
def test_the_pages_explain_the_shop_state_from_shop_state(app, client, shops, monkeypatch, path):
    with app.app_context():
        ready_to_send(shops)
    state = rules.ShopState(False, False, "MODULE-OFF-SENTINEL", "LOCATION-SENTINEL")
    monkeypatch.setattr(rules, "shop_state", lambda company: state)
    login(client, shops["a"]["admin"])
    page = client.get(path.format(customer=shops["a"]["customer"])).get_data(as_text=True)
    assert "MODULE-OFF-SENTINEL" in page, f"{path} does not ask rules.shop_state"


@pytest.mark.parametrize("event", ["appointment_changed", "invoice_printed"])
def test_host_events_of_a_shop_whose_module_is_off_are_ignored_by_module_on(
    app, shops, monkeypatch, event
):
    queued = []
    monkeypatch.setattr(event_jobs, "enqueue", lambda *args: queued.append(args))
    monkeypatch.setattr(rules, "module_on", lambda company_id: False)
    with app.app_context():
        if event == "appointment_changed":
            appointment = db.session.get(Appointment, shops["a"]["appointment"])
            plugin.appointment_changed(
                appointment=appointment, changes={}, created=True, event_id=None
            )
        else:
            invoice = db.session.get(Invoice, shops["a"]["invoice"])
            plugin.invoice_printed(invoice=invoice, event_id=None)
    assert queued == [], f"the {event} hook does not ask rules.module_on"


# --- option 124 needs the V2V organization number, as long as it is on (PRODUCT.md §3) ----


def test_option_124_on_with_no_v2v_number_refuses_at_acceptance_and_says_where(app, shops):
    with app.app_context():
        company, customer = ready_to_send(shops)
        company.v2v_number = "   "  # blank is empty
        db.session.commit()
        refused = send(shops)
        assert refused.code == "v2v_missing"
        assert "V2V organization number" in refused.message
        assert "Company management" in refused.message
        kept = db.session.get(SmsMessage, refused.message_id)
        assert (kept.status, kept.failure_code) == (Status.FAILED, "v2v_missing")
        assert kept.send_at is None  # never scheduled


def test_the_send_time_check_refuses_a_message_whose_shop_lost_its_v2v_number(app, shops):
    with app.app_context():
        mid = accepted_message(shops)
        db.session.get(Company, shops["a"]["shop"]).v2v_number = None
        db.session.commit()
        assert send_job.send_message(mid) == "refused: v2v_missing"
        found = message(mid)
        assert (found.status, found.failure_code, found.attempts) == (
            Status.FAILED,
            "v2v_missing",
            0,
        )
        assert found.failure_reason == "v2v_missing: before_sending"
        with app.test_request_context(), force_locale("en"):
            assert "Company management" in failure_text(found.failure_code, found.failure_reason)
        assert carrier(app).sent_count() == 0


def veto(app, shops, **changes):
    with app.app_context():
        company = db.session.get(Company, shops["a"]["shop"])
        return rules.company_veto(company, changes)


def test_company_veto_keeps_the_v2v_number_while_option_124_is_on(app, shops):
    with app.test_request_context():
        module_on(shops["a"]["shop"])
        emptied = veto(app, shops, v2v_number=("V2V-a", None))
        assert set(emptied) == {"v2v_number"} and "Options tab" in emptied["v2v_number"]
        assert veto(app, shops, v2v_number=("V2V-a", "  ")) is not None
        # Changing it, or changing anything else, is allowed.
        assert veto(app, shops, v2v_number=("V2V-a", "V2V-b")) is None
        assert veto(app, shops, name=("Garage A", "Garage Z"), province=("QC", None)) is None
        # With the option off, the number may be emptied.
        module_on(shops["a"]["shop"], False)
        assert veto(app, shops, v2v_number=("V2V-a", None)) is None


# --- one home: each rule's ingredients are read in one module -----------------------------

RULE_HOMES = {
    # option 124 "Use the new SMS module" is on (PRODUCT.md §3); plugin.py declares the
    # option and demo.py (and the benchmarks' seed) switch it on, but only the rules read it
    "option_enabled": {"compliance/rules.py"},
    "option_enabled_sql": {"compliance/rules.py"},
    "CompanyOption": {"demo.py", "seed_bench/people.py"},
    # the V2V organization number option 124 needs (§3); demo.py picks the demo shops by it
    "v2v_number": {"compliance/rules.py", "demo.py"},
    # the quiet hours (§7, §10)
    "SMS_QUIET_START_HOUR": {"compliance/quiet_hours.py", "extension.py"},
    "SMS_QUIET_END_HOUR": {"compliance/quiet_hours.py", "extension.py"},
    # a Sent message with no delivery report after 72 hours (§6)
    "NO_REPORT_AFTER_HOURS": {"models/statuses.py"},
    # which messages wait for the disclaimer, and when one is still to write (§5)
    "needed": {"compliance/disclaimer.py", "sending/service.py"},
    "must_precede": {"compliance/disclaimer.py", "sending/checks.py"},
    # express consent on record (§4): the ledger's last word, in Python and in SQL
    "WITHDRAWN": {
        "compliance/consent.py",
        "models/compliance.py",
        "notifications/events.py",
        # its label for people, no rule (issue 12, point 1)
        "texts/labels.py",
        "reports/cells.py",
    },
    # shop time: the host's shop_zone / Company.zone, never re-derived from time_zone (§2)
    "time_zone": set(),
    # a text stays true: the appointment statuses in which a visit is still ahead, and the
    # guard checked at the appointment's change and just before the carrier (issue 11)
    "UPCOMING_STATUSES": {"compliance/guards.py", "notifications/events.py"},
    "stale": {
        "compliance/guards.py",
        "notifications/events.py",
        "sending/checks.py",
        "notifications/resend.py",  # a refused text is sent again only while still true
    },
    # Twilio's 21610 opts the phone out (§5)
    "21610": {"carriers/errors.py", "texts/reasons.py"},  # reasons: its words, no rule
    "opts_out": {
        "carriers/errors.py",
        "sending/delivery_reports.py",
        "sending/reconciliation.py",
    },
}


def names_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str | int):
            found.add(str(node.value))
        elif isinstance(node, ast.alias):
            found.add(node.asname or node.name.rsplit(".", 1)[-1])
    return found


@pytest.mark.parametrize("ingredient", sorted(RULE_HOMES))
def test_each_rule_is_read_in_its_home_only(ingredient):
    readers = {
        str(path.relative_to(SMS_MODULE))
        for path in SMS_MODULE.rglob("*.py")
        if ingredient in names_in(path)
    }
    assert readers <= RULE_HOMES[ingredient], f"{ingredient} re-stated in {readers}"


def test_the_location_rule_is_written_once():
    # "Sending needs the shop's country and province" (§3): only rules.location_filled
    # reads both; message_language reads the province for Quebec's French, another rule.
    readers = {
        str(path.relative_to(SMS_MODULE))
        for path in SMS_MODULE.rglob("*.py")
        if {"country", "province"} <= names_in(path)
    }
    assert readers <= {"compliance/rules.py", "texts/variables.py"}, readers
