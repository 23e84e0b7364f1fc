"""The plugin system: discovery, switching off, ordering, start-up checks, and one test per
extension-point hook (the event hooks are tested in ``test_events.py``)."""

from __future__ import annotations

import csv
import io
import re
from importlib.metadata import entry_points

import pluggy
import pytest
from sqlalchemy import select

from host.extensions import db
from host.models import CompanyOption, Customer
from host.plugins import PluginConflict
from tests.conftest import login
from tests.support_plugins import (
    LOYALTY_ERROR,
    OPTION_FREE,
    OPTION_VETOED,
    VETO_MESSAGE,
    BlueprintClaim,
    MisspelledHook,
    OptionClaimA,
    OptionClaimB,
    QueuesFirst,
    QueuesLast,
    RecordingPlugin,
    ReportClaim,
)


def menu_hrefs(html: str) -> list[str]:
    """Return the links of the main menu of a rendered page."""
    menu = re.search(r'<nav class="menu">(.*?)</nav>', html, re.S)
    assert menu, html
    return re.findall(r'href="([^"]+)"', menu.group(1))


# -- discovery, switching off, ordering ----------------------------------------------


def test_entry_point_plugins_are_discovered(app):
    declared = {ep.name: ep.value for ep in entry_points(group="crmhost")}
    assert declared["sms"] == "plugins.sms_module.plugin"
    assert declared["reports"] == "plugins.reports.plugin"
    pm = app.extensions["plugin_manager"]
    # Loaded through the entry points: pluggy knows the distribution that declared them.
    from_dists = {pm.get_name(p): dist.project_name for p, dist in pm.list_plugin_distinfo()}
    assert from_dists["sms"] == "crmhost"
    assert from_dists["reports"] == "crmhost"
    assert pm.get_plugin("sms").__name__ == "plugins.sms_module.plugin"
    assert pm.has_plugin("host.default_plugin")
    assert "reports.index" in app.view_functions


def test_extra_plugin_from_config(plugin_app, plugin):
    assert plugin_app.extensions["plugin_manager"].get_plugin("recording") is plugin


def check_reports_off(app, shops) -> None:
    assert "reports.index" not in app.view_functions
    client = app.test_client()
    login(client, shops["a"]["admin"])
    home = client.get("/")
    assert home.status_code == 200
    hrefs = menu_hrefs(home.get_data(as_text=True))
    assert "/customers/" in hrefs
    assert not any(h.startswith("/reports") for h in hrefs)
    assert client.get("/reports/").status_code == 404


def test_plugin_switched_on_by_default(client, shops):
    login(client, shops["a"]["admin"])
    assert "/reports/" in menu_hrefs(client.get("/").get_data(as_text=True))
    assert client.get("/reports/").status_code == 200


def test_plugin_switched_off_by_config(make_app, shops):
    app = make_app(PLUGINS_DISABLED=["reports"])
    assert app.extensions["plugin_manager"].get_plugin("reports") is None
    check_reports_off(app, shops)


def test_plugin_switched_off_by_environment(monkeypatch, make_app, shops):
    monkeypatch.setenv("CRMHOST_DISABLED_PLUGINS", " reports ,")
    app = make_app()
    assert app.config["PLUGINS_DISABLED"] == ["reports"]
    check_reports_off(app, shops)


def test_tryfirst_and_trylast_order_results(make_app):
    # Registered last-first on purpose: the markers, not the order of registration, decide.
    app = make_app(PLUGINS_EXTRA=[QueuesLast(), QueuesFirst()])
    queues = app.extensions["queues_declared"]
    assert queues[0] == "first"
    assert queues[-1] == "last"
    assert "transactional" in queues[1:-1]


# -- start-up checks -----------------------------------------------------------------


def test_two_plugins_claiming_one_option_number_stop_the_start_up(make_app):
    with pytest.raises(PluginConflict) as caught:
        make_app(PLUGINS_EXTRA=[OptionClaimA(), OptionClaimB()])
    message = str(caught.value)
    assert "option number 990" in message
    assert "'option-claim-a'" in message and "'option-claim-b'" in message


def test_two_plugins_claiming_one_blueprint_name_stop_the_start_up(make_app):
    with pytest.raises(PluginConflict) as caught:
        make_app(PLUGINS_EXTRA=[BlueprintClaim()])
    message = str(caught.value)
    assert "blueprint 'reports'" in message
    assert "'reports'" in message and "'blueprint-claim'" in message


def test_two_plugins_claiming_one_report_name_stop_the_start_up(make_app):
    with pytest.raises(PluginConflict) as caught:
        make_app(PLUGINS_EXTRA=[ReportClaim()])
    message = str(caught.value)
    assert "report 'legacy_sent_sms_log'" in message
    assert "'host.default_plugin'" in message and "'report-claim'" in message


def test_switching_one_claimant_off_resolves_the_conflict(make_app):
    app = make_app(PLUGINS_EXTRA=[BlueprintClaim()], PLUGINS_DISABLED=["reports"])
    assert "reports" in app.blueprints


def test_hook_implementation_without_spec_is_refused(make_app):
    with pytest.raises(pluggy.PluginValidationError, match="menu_link"):
        make_app(PLUGINS_EXTRA=[MisspelledHook()])


# -- one test per extension-point hook -----------------------------------------------


def test_hook_startup(make_app, plugin_app, plugin):
    assert plugin.received("startup") == [{"app": plugin_app}]
    assert plugin_app.config["TESTPLUGIN_GREETING"] == "Hello"
    # A plugin's config default yields to the deployment's value.
    other = make_app(PLUGINS_EXTRA=[RecordingPlugin()], TESTPLUGIN_GREETING="Bonjour")
    assert other.config["TESTPLUGIN_GREETING"] == "Bonjour"


def test_hook_register_blueprints(plugin_app, plugin_client, shops):
    assert "testplugin" in plugin_app.blueprints
    login(plugin_client, shops["a"]["staff"])
    response = plugin_client.get("/testplugin/")
    assert response.status_code == 200
    assert "The test plugin's page" in response.get_data(as_text=True)


def test_hook_register_commands(plugin_app):
    result = plugin_app.test_cli_runner().invoke(args=["testplugin-hello", "Ada"])
    assert result.exit_code == 0, result.output
    # The greeting comes from the startup hook: commands run in the configured app.
    assert result.output == "Hello, Ada!\n"


def test_hook_register_queues(app, plugin_app):
    assert "testplugin" in plugin_app.extensions["queues_declared"]
    assert "testplugin" not in app.extensions["queues_declared"]


def test_hook_seed_demo(plugin_app, plugin):
    from host.demo import seed_demo

    with plugin_app.app_context():
        seed_demo()
    # Called once, after the host's demo customers exist.
    [call] = plugin.received("seed_demo")
    assert call["customers"] > 0


def test_hook_register_periodic_tasks(plugin_app, plugin):
    from host.worker import PeriodicRunner

    assert "testplugin-tick" in [t.name for t in plugin_app.extensions["periodic_tasks"]]
    assert "testplugin-tick" in PeriodicRunner(plugin_app).run_once()
    # The cluster-wide lock holds for the task's interval: a second worker skips it.
    assert "testplugin-tick" not in PeriodicRunner(plugin_app).run_once()
    assert plugin.received("tick") == [{"app": plugin_app.name}]


def test_hook_menu_links(client, plugin_client, shops):
    login(plugin_client, shops["a"]["staff"])
    page = plugin_client.get("/customers/").get_data(as_text=True)
    hrefs = menu_hrefs(page)
    assert "/testplugin/" in hrefs
    assert ">Test plugin</a>" in page
    # Ordered by MenuLink.order: after Invoices (30) and Reports (60).
    assert hrefs.index("/invoices/") < hrefs.index("/reports/") < hrefs.index("/testplugin/")
    login(client, shops["a"]["staff"])
    assert "/testplugin/" not in menu_hrefs(client.get("/customers/").get_data(as_text=True))


def test_hook_shop_options(plugin_client, shops):
    login(plugin_client, shops["a"]["admin"])
    page = plugin_client.get(f"/companies/{shops['a']['shop']}/options").get_data(as_text=True)
    assert f"{OPTION_FREE} - Test option" in page
    assert f"{OPTION_VETOED} - Vetoed option" in page
    assert f'name="option-{OPTION_FREE}"' in page


def saved_options(app, shop_id: int) -> dict[int, bool]:
    with app.app_context():
        rows = db.session.scalars(select(CompanyOption).filter_by(company_id=shop_id))
        return {row.number: row.enabled for row in rows}


def test_hook_veto_option_change(plugin_app, plugin_client, plugin, shops):
    shop = shops["a"]["shop"]
    url = f"/companies/{shop}/options"
    login(plugin_client, shops["a"]["admin"])

    refused = plugin_client.post(
        url, data={f"option-{OPTION_FREE}": "on", f"option-{OPTION_VETOED}": "on"}
    )
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert VETO_MESSAGE.format(name="Garage A") in page
    # All or nothing: the allowed option was not saved either.
    assert saved_options(plugin_app, shop) == {}
    asked = {(c["number"], c["enabled"]) for c in plugin.received("veto_option_change")}
    assert asked == {(OPTION_FREE, True), (OPTION_VETOED, True)}
    assert {c["company"] for c in plugin.received("veto_option_change")} == {shop}

    allowed = plugin_client.post(url, data={f"option-{OPTION_FREE}": "on"})
    assert allowed.status_code == 302
    assert saved_options(plugin_app, shop) == {OPTION_FREE: True}
    # Switching off asks too, with enabled=False.
    plugin.calls.clear()
    assert plugin_client.post(url, data={}).status_code == 302
    assert [(c["number"], c["enabled"]) for c in plugin.received("veto_option_change")] == [
        (OPTION_FREE, False)
    ]
    assert saved_options(plugin_app, shop) == {OPTION_FREE: False}


def customer_form(**overrides) -> dict[str, str]:
    data = {
        "first_name": "Client",
        "last_name": "A",
        "mobile_phone": "+15145550101",
        "email": "",
        "language": "",
    }
    data.update(overrides)
    return data


def first_name(app, customer_id: int) -> str:
    with app.app_context():
        return db.session.get(Customer, customer_id).first_name


def test_hook_customer_fields(plugin_app, plugin_client, plugin, shops):
    customer = shops["a"]["customer"]
    url = f"/customers/{customer}"
    login(plugin_client, shops["a"]["staff"])

    page = plugin_client.get(url).get_data(as_text=True)
    assert '<input id="loyalty-code" name="loyalty-code" value="">' in page
    assert 'data-field="loyalty"' in page

    # The field's validation refuses the whole form, and keeps what was typed.
    refused = plugin_client.post(
        url, data=customer_form(first_name="Changed", **{"loyalty-code": "<b>7"})
    )
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert LOYALTY_ERROR in page
    assert 'value="&lt;b&gt;7"' in page
    assert first_name(plugin_app, customer) == "Client"
    assert plugin.received("customer_field_apply") == []
    assert plugin.received("customer_saved") == []

    saved = plugin_client.post(
        url, data=customer_form(first_name="Changed", **{"loyalty-code": "L-7"})
    )
    assert saved.status_code == 302
    [applied] = plugin.received("customer_field_apply")
    assert applied["customer_id"] == customer
    assert applied["code"] == "L-7"
    assert applied["user"] == shops["a"]["staff"]
    # Inside the customer's transaction: this session sees the change, nobody else yet.
    assert applied["in_transaction"] is True
    assert applied["name_here"] == "Changed"
    assert applied["elsewhere"]["first_name"] == "Client"
    # The commit came after, once for both.
    assert [name for name, _ in plugin.calls][-2:] == ["customer_field_apply", "customer_saved"]
    assert first_name(plugin_app, customer) == "Changed"


def test_hook_customer_fields_for_a_new_customer(plugin_app, plugin_client, plugin, shops):
    login(plugin_client, shops["a"]["staff"])
    assert 'name="loyalty-code"' in plugin_client.get("/customers/new").get_data(as_text=True)
    saved = plugin_client.post(
        "/customers/new",
        data=customer_form(first_name="New", mobile_phone="", **{"loyalty-code": "L-1"}),
    )
    assert saved.status_code == 302
    [applied] = plugin.received("customer_field_apply")
    # The customer has an id already (flushed) but is not committed yet.
    assert applied["customer_id"] is not None
    assert applied["elsewhere"] is None
    assert first_name(plugin_app, applied["customer_id"]) == "New"


def test_hook_customer_tabs(plugin_client, shops):
    customer = shops["a"]["customer"]
    login(plugin_client, shops["a"]["staff"])
    for url in (f"/customers/{customer}", f"/customers/{customer}/appointments"):
        page = plugin_client.get(url).get_data(as_text=True)
        assert f'href="/testplugin/customers/{customer}">Loyalty</a>' in page, url
    tab = plugin_client.get(f"/testplugin/customers/{customer}")
    assert tab.status_code == 200
    assert "Loyalty of Client A" in tab.get_data(as_text=True)
    assert plugin_client.get(f"/testplugin/customers/{shops['b']['customer']}").status_code == 404


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_hook_register_reports(plugin_app, plugin_client, shops):
    assert "testplugin_customers" in plugin_app.extensions["reports"]
    login(plugin_client, shops["a"]["staff"])
    index = plugin_client.get("/reports/").get_data(as_text=True)
    assert "Customers (test plugin)" in index

    rows = read_csv(plugin_client.get("/reports/testplugin_customers.csv"))
    # Each shop sees only its own customers.
    assert rows == [["id", "name"], [str(shops["a"]["customer"]), "Client A"]]
    plugin_client.post("/logout")
    login(plugin_client, shops["b"]["staff"])
    rows = read_csv(plugin_client.get("/reports/testplugin_customers.csv"))
    assert rows == [["id", "name"], [str(shops["b"]["customer"]), "Client B"]]
