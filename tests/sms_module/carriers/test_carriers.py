"""The carrier factory: the provider the settings name, or a clear refusal."""

from __future__ import annotations

import pytest

from plugins.sms_module.carriers import carrier_for
from plugins.sms_module.carriers.twilio import TwilioCarrier
from tests.sms_module.carriers.support import ACCOUNT_SID, CALLBACK, FROM, TO


def test_carrier_for_twilio_aims_the_sdk_at_the_configured_base_url(prism_url):
    carrier = carrier_for(
        {
            "SMS_PROVIDER": "twilio",
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": "auth-token",
            "TWILIO_API_BASE_URL": prism_url + "/",
        }
    )
    assert isinstance(carrier, TwilioCarrier)
    assert carrier.send(to=TO, from_=FROM, body="Hi", status_callback=CALLBACK).sid.startswith("SM")


def test_carrier_for_twilio_needs_credentials():
    with pytest.raises(ValueError, match="TWILIO_ACCOUNT_SID"):
        carrier_for({"SMS_PROVIDER": "twilio", "TWILIO_AUTH_TOKEN": "x"})


def test_carrier_for_an_unknown_provider_says_which_are_known():
    with pytest.raises(ValueError, match="'twilio' or 'simulator'"):
        carrier_for({"SMS_PROVIDER": "carrier-pigeon"})


def test_carrier_for_simulator_returns_the_simulator(app):
    from plugins.sms_module.carriers import simulator

    app.config["SMS_PROVIDER"] = "simulator"
    with app.app_context():
        carrier = carrier_for(app.config)
    assert isinstance(carrier, simulator.SimulatorCarrier)


def test_the_simulator_counts_a_send_past_its_number_s_rate_as_a_breach(make_app, redis_url):
    # The rate accuracy benchmark reads this count: two segments a second on a number of
    # rate 2 are none; a third in the same second is one (the sends here take milliseconds).
    from sqlalchemy import select

    from host.extensions import db
    from plugins.sms_module.carriers.simulator import SimulatorCarrier
    from plugins.sms_module.models import SenderNumber
    from tests.support_pipeline import in_process_app

    app = in_process_app(make_app, SMS_SIMULATOR_CALLBACK_DELAY=None)
    with app.app_context():
        number = db.session.scalar(select(SenderNumber).order_by(SenderNumber.id).limit(1))
        number.rate = 2
        db.session.commit()
        carrier = SimulatorCarrier.from_config(app.config)
        for body in ("one", "two"):
            carrier.send(to=TO, from_=number.number, body=body, status_callback=CALLBACK)
        assert carrier.breaches() == 0
        carrier.send(to=TO, from_=number.number, body="three", status_callback=CALLBACK)
        assert carrier.breaches() == 1
        assert carrier.sent_count() == 3
