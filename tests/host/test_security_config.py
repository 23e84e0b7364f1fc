"""A production app refuses a public SECRET_KEY; the simulator's webhook secret is derived
from it; the demo makes its own key (``host/security.py``, ``host/demo/run.py``,
``plugins/sms_module/extension.py``)."""

from __future__ import annotations

import os
import stat

import pytest

from host.app import create_app
from host.demo.run import demo_secret_key
from host.security import UnsafeConfiguration
from plugins.sms_module.carriers.webhooks import signature_for
from tests.support_worker import child_env, run_crmhost


@pytest.fixture
def production(monkeypatch, database_uri, redis_url):
    """Build an app as production does: no TESTING, no DEBUG, no key unless given."""
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)

    def build(**config):
        return create_app(
            {"SQLALCHEMY_DATABASE_URI": database_uri, "REDIS_URL": redis_url, **config}
        )

    return build


@pytest.mark.parametrize("key", [None, "", "   ", "dev"])
def test_production_refuses_an_empty_or_default_secret_key(production, key):
    config = {} if key is None else {"SECRET_KEY": key}
    with pytest.raises(UnsafeConfiguration) as refused:
        production(**config)
    message = str(refused.value)
    assert "SECRET_KEY" in message
    assert "secrets.token_hex(32)" in message  # says how to make one


def test_production_starts_with_a_secret_key(production):
    app = production(SECRET_KEY="a2f0c4d9e7b15a3c8e6d2f9a0b4c7e1d")
    assert app.secret_key == "a2f0c4d9e7b15a3c8e6d2f9a0b4c7e1d"


@pytest.mark.parametrize("mode", [{"TESTING": True}, {"DEBUG": True}])
def test_tests_and_debug_run_with_the_default_key(production, mode):
    assert production(**mode).secret_key == "dev"


def test_the_command_line_says_how_to_set_the_key(database_uri, redis_url):
    env = child_env(
        SECRET_KEY=None, FLASK_DEBUG=None, DATABASE_URL=database_uri, REDIS_URL=redis_url
    )
    done = run_crmhost("sms", "segments", "Bonjour", env=env)
    assert done.returncode != 0
    assert "SECRET_KEY is not set" in done.stdout
    assert "secrets.token_hex(32)" in done.stdout
    assert "Traceback" not in done.stdout


def test_the_simulator_secret_is_derived_from_the_secret_key(make_app):
    one = make_app(SECRET_KEY="first-instance-key-0123456789")
    again = make_app(SECRET_KEY="first-instance-key-0123456789")  # another process
    other = make_app(SECRET_KEY="other-instance-key-0123456789")
    token = one.config["SMS_SIMULATOR_AUTH_TOKEN"]
    assert token != "simulator"
    assert len(token) == 64 and "first-instance" not in token
    assert again.config["SMS_SIMULATOR_AUTH_TOKEN"] == token  # every process of the instance
    assert other.config["SMS_SIMULATOR_AUTH_TOKEN"] != token  # never shared between two


def test_the_simulator_secret_can_still_be_given(make_app, monkeypatch):
    monkeypatch.setenv("SMS_SIMULATOR_AUTH_TOKEN", "given-by-the-operator")
    assert make_app().config["SMS_SIMULATOR_AUTH_TOKEN"] == "given-by-the-operator"


def test_a_report_signed_with_the_old_public_constant_is_refused(app, client):
    url = app.config["SMS_PUBLIC_BASE_URL"].rstrip("/") + "/sms/twilio/status"
    params = {"MessageSid": "SM" + "0" * 32, "MessageStatus": "delivered"}
    forged = client.post(
        "/sms/twilio/status",
        data=params,
        headers={"X-Twilio-Signature": signature_for("simulator", url, params)},
    )
    assert forged.status_code == 403
    signed = signature_for(app.config["SMS_SIMULATOR_AUTH_TOKEN"], url, params)
    genuine = client.post("/sms/twilio/status", data=params, headers={"X-Twilio-Signature": signed})
    assert genuine.status_code == 200


def test_the_demo_makes_its_key_once_per_instance(monkeypatch, tmp_path):
    monkeypatch.setenv("CRMHOST_INSTANCE_PATH", str(tmp_path / "one"))
    key = demo_secret_key()
    assert len(key) == 64 and key != "dev"
    assert demo_secret_key() == key  # a restarted demo keeps its sessions
    mode = os.stat(tmp_path / "one" / "secret_key").st_mode
    assert stat.S_IMODE(mode) == 0o600
    monkeypatch.setenv("CRMHOST_INSTANCE_PATH", str(tmp_path / "two"))
    assert demo_secret_key() != key


def test_crmhost_demo_starts_without_a_secret_key():
    """``crmhost demo`` is not refused before it makes its own key (the app is not loaded
    before the command runs)."""
    done = run_crmhost("demo", "--help", env=child_env(SECRET_KEY=None, FLASK_DEBUG=None))
    assert done.returncode == 0, done.stdout
    assert "SECRET_KEY" not in done.stdout


def test_production_refuses_a_short_secret_key(production):
    with pytest.raises(UnsafeConfiguration) as refused:
        production(SECRET_KEY="x7Gq2pL9vR4kT1m")  # 15 characters
    message = str(refused.value)
    assert "SECRET_KEY is too short (15 characters, 16 at least)" in message
    assert "secrets.token_hex(32)" in message
    assert production(SECRET_KEY="x7Gq2pL9vR4kT1mZ").secret_key == "x7Gq2pL9vR4kT1mZ"


@pytest.mark.parametrize("value", [-1, "two", True, 1.5])
def test_a_wrong_number_of_trusted_proxies_is_refused(make_app, value):
    with pytest.raises(UnsafeConfiguration, match="TRUSTED_PROXIES"):
        make_app(TRUSTED_PROXIES=value)


@pytest.fixture
def no_key(monkeypatch, database_uri, redis_url):
    """The command line's environment in production, without a SECRET_KEY."""
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    monkeypatch.setenv("DATABASE_URL", database_uri)
    monkeypatch.setenv("REDIS_URL", redis_url)


def test_crmhost_help_lists_every_command_without_a_key(no_key):
    from click.testing import CliRunner

    from host.cli import main

    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    for name in ("create-user", "db", "demo", "sms", "worker"):
        assert f"  {name} " in result.output
    assert "The app cannot start: SECRET_KEY is not set" in result.output


def test_a_command_needing_the_app_without_a_key_is_a_one_line_error(no_key):
    from click.testing import CliRunner

    from host.cli import main

    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: SECRET_KEY is not set")


def test_crmhost_help_in_a_process_has_no_traceback(database_uri, redis_url):
    env = child_env(
        SECRET_KEY=None, FLASK_DEBUG=None, DATABASE_URL=database_uri, REDIS_URL=redis_url
    )
    done = run_crmhost("--help", env=env)
    assert done.returncode == 0
    assert "Traceback" not in done.stdout
    assert "  sms " in done.stdout and "  worker " in done.stdout
