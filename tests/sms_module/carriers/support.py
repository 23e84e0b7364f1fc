"""What the Twilio carrier's tests share: one message's numbers and SIDs, a gateway on Prism."""

from __future__ import annotations

from plugins.sms_module.carriers.twilio import TwilioCarrier

TO, FROM = "+15145550123", "+14385550001"
CALLBACK = "https://crm.example.com/sms/twilio/status?message_id=42"
SM_SID = "SM" + "0123456789abcdef" * 2
# A well-formed account SID: the spec's path pattern is ^AC[0-9a-fA-F]{32}$.
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
MESSAGES_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"


def prism_gateway(base_url: str, **headers: str) -> TwilioCarrier:
    """Return a gateway aimed at Prism, with Prism's answer-selecting headers."""
    return TwilioCarrier(ACCOUNT_SID, "auth-token", base_url, extra_headers=dict(headers))


def last_status(gateway: TwilioCarrier) -> int:
    """Return the HTTP status of the gateway's last answer."""
    return gateway.http_client._test_only_last_response.status_code
