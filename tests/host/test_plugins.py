"""The plugin system (``host/plugins.py``): discovery, switching off, ordering, start-up
checks, and one test per start-up hook (the hooks that shape pages are tested in
``test_plugins_pages.py``, the event hooks in ``test_events.py``)."""

from __future__ import annotations

from importlib.metadata import entry_points

import pluggy
import pytest

from host.plugins import PluginConflict
from tests.conftest import login
from tests.host.support_small_plugins import (
    BlueprintClaim,
    MisspelledHook,
    OptionClaimA,
    OptionClaimB,
    QueuesFirst,
    QueuesLast,
    ReportClaim,
)
from tests.host.support_views import menu_hrefs
from tests.support_plugins import DEMO_NOTE, RecordingPlugin

# -- discovery, switching off, ordering ------------------------------------------------


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


# -- start-up checks -------------------------------------------------------------------


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


# -- one test per start-up hook --------------------------------------------------------


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


def test_hook_demo_notes(plugin_app, plugin, capsys):
    from host.demo import OPERATOR
    from host.demo.run import plugin_notes, print_banner

    with plugin_app.app_context():
        notes = plugin_notes()
    assert DEMO_NOTE in notes
    assert plugin.received("demo_notes") == [{"app": plugin_app.name}]  # in an app context
    print_banner("http://127.0.0.1:5000/", [OPERATOR], "redis://127.0.0.1:6379/0", notes)
    banner = capsys.readouterr().out
    # Under the logins, above the way to stop.
    assert banner.index(OPERATOR.email) < banner.index(DEMO_NOTE) < banner.index("Press Ctrl-C")


def test_hook_register_periodic_tasks(plugin_app, plugin):
    from host.worker import PeriodicRunner

    assert "testplugin-tick" in [t.name for t in plugin_app.extensions["periodic_tasks"]]
    assert "testplugin-tick" in PeriodicRunner(plugin_app).run_once()
    # The cluster-wide lock holds for the task's interval: a second worker skips it.
    assert "testplugin-tick" not in PeriodicRunner(plugin_app).run_once()
    assert plugin.received("tick") == [{"app": plugin_app.name}]
