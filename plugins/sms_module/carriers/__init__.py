"""Carriers: who hands our messages to the phone network.

Owns the carrier interface (``base``), Twilio's webhook protocol (``webhooks``), the Twilio
carrier through the official SDK (``twilio``, the only module that talks to Twilio's REST
API) and the built-in simulator (``simulator``). ``carrier_for`` picks one from the
configuration; implementations import the base, never each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from plugins.sms_module.carriers.base import Carrier, CarrierError, CarrierMessage

__all__ = ["Carrier", "CarrierError", "CarrierMessage", "carrier_for"]


def carrier_for(app_config: Mapping[str, Any]) -> Carrier:
    """Return the carrier ``SMS_PROVIDER`` names: Twilio, or the built-in simulator."""
    provider = (app_config.get("SMS_PROVIDER") or "simulator").strip().lower()
    if provider == "twilio":
        sid = app_config.get("TWILIO_ACCOUNT_SID")
        token = app_config.get("TWILIO_AUTH_TOKEN")
        if not sid or not token:
            raise ValueError(
                "SMS_PROVIDER=twilio needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN to be set."
            )
        # Imported here: a simulator deployment never loads the Twilio SDK.
        from plugins.sms_module.carriers.twilio import TwilioCarrier

        return TwilioCarrier(sid, token, app_config.get("TWILIO_API_BASE_URL") or None)
    if provider == "simulator":
        # Imported here so a Twilio deployment never loads the simulator.
        from plugins.sms_module.carriers import simulator

        return simulator.SimulatorCarrier.from_config(app_config)
    raise ValueError(f"Unknown SMS_PROVIDER {provider!r}: use 'twilio' or 'simulator'.")
