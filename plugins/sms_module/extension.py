"""The SMS module's Flask extension: its settings, each defaulted and documented here.

Every setting is read the same way as the host's: ``instance/config.py``, then any
``CRMHOST_<KEY>`` environment variable (JSON-parsed; applied by the host before plugins
start), then the plain environment variables of PRODUCT.md §12 where one is named below,
then the default. Durations are in seconds unless the name says otherwise.

=================================  =========  ===============================================
Key                                Default    Meaning
=================================  =========  ===============================================
``SMS_PROVIDER``                   simulator  ``simulator`` or ``twilio`` (env ``SMS_PROVIDER``)
``SMS_PUBLIC_BASE_URL``            host's     the address the carrier calls back; signatures
                                              are checked against it (env of the same name);
                                              by default the host's ``PUBLIC_BASE_URL``
``TWILIO_ACCOUNT_SID``,            —          Twilio credentials (env of the same names)
``TWILIO_AUTH_TOKEN``
``TWILIO_API_BASE_URL``            —          aims the Twilio SDK at a mock (env)
``SMS_PRICE_PER_SEGMENT``          0.0100     price per segment until the operator saves one
``SMS_CURRENCY``                   CAD        its currency (env of the same names)
``SMS_GSM_PER_SEGMENT``            153        characters per GSM-7 segment (PRODUCT.md §8)
``SMS_UNICODE_PER_SEGMENT``        67         characters per UCS-2 segment (§8)
``SMS_MAX_CHARACTERS``             1600       longest body accepted, in characters (§8)
``SMS_JOB_TIMEOUT``                45         seconds RQ lets a send job run
``SMS_SEND_LEASE_SECONDS``         30         seconds a worker may hold a message in the
                                              carrier call
``SMS_LEASE_TTL_SECONDS``          3          seconds a dead worker's lease on a message
                                              outlives it (renewed while it lives)
``SMS_SWEEP_GRACE_SECONDS``        5          seconds a committed message may wait for its
                                              job before the sweeper gives it one
``SMS_EVENT_SWEEP_HOURS``          24         hours back the sweeper looks for host events
                                              whose job never ran (issue 15)
``SMS_RATE_MARGIN_SECONDS``        0.03       seconds added to a number's 1-second window
                                              while a send is in flight
``SMS_RATE_MAX_WAIT``              0.5        seconds a worker waits for a busy number
                                              before handing the message back to the queue
``SMS_BATCH_SECONDS``              5.0        seconds a send job goes on with its queue's
                                              due messages (0: off)
``SMS_MAX_ATTEMPTS``               4          carrier attempts for transient errors
``SMS_RETRY_BASE_SECONDS``         2          first retry delay, doubled on each attempt
``SMS_SIMULATOR_CALLBACK_DELAY``   1.0        seconds before the simulator's delivery
                                              report (``None``: no reports)
``SMS_SIMULATOR_AUTH_TOKEN``       derived    what the simulator signs its posts with (env);
                                              by default an HMAC of ``SECRET_KEY``: secret,
                                              the same in every process of one instance
``SMS_REMINDER_HOURS_BEFORE``      24         hours before an appointment its reminder goes,
                                              until the shop saves its own (§10)
``SMS_QUIET_START_HOUR``,          21, 8      the shop-time night no promotional SMS goes
``SMS_QUIET_END_HOUR``                        in, hours of the day
``SMS_METRICS_TOKEN``              —          bearer token of ``/sms/metrics`` (env)
``SMS_OPERATOR_EMAILS``            []         addresses for replies no shop's conversation
                                              explains (env: comma-separated) (§9)
``SMS_HELP_PHONE``                 —          the number (E.164) the answer to HELP gives
                                              when the shop saved none, or for a phone no
                                              shop's conversation explains (env) (§5)
``SMS_HELP_ANSWER_SECONDS``        3600       one answer to HELP per phone in this many
                                              seconds (0: every time); the rest unanswered
``SMS_STOP_ANSWER_SECONDS``        86400      one STOP confirmation per phone in this many
                                              seconds (the opt-out itself always happens)
``SMS_START_ANSWER_SECONDS``       3600       one answer to START per phone in this many
                                              seconds (the opt-in itself always happens)
``SMS_MAIL_CONCURRENCY``           1          mail jobs (reply forwards, digests) queued or
                                              running at once on the platform (issue 15)
``SMS_MAIL_RETRY_SECONDS``         30 … 3600  delays before each new try of a mail job that
                                              failed; after the last one it is recorded failed
``SMS_FORWARDS_PER_HOUR``          10         replies of one phone to one shop forwarded one
                                              by one in an hour; the rest in one digest at
                                              the hour's end (0: no limit; §9, issue 13)
``SMS_RECONCILE_SKEW_SECONDS``     120        clock difference allowed between our workers
                                              and the carrier when a carrier record is
                                              matched to an attempt (issue 15)
``SMS_RECONCILE_WAIT_SECONDS``     60         a message whose carrier record is ambiguous
                                              is examined again after this long
``SMS_RECONCILE_MAX_WAIT_MINUTES`` 30         ... and flagged to the operator after this long
``SMS_STATUS_FETCH_AFTER_HOURS``   12         a Sent message with no final status is asked
                                              of the carrier after this long (Twilio's advice)
``SMS_STATUS_FETCH_EVERY_HOURS``   6          ... and again after this long, until 72 hours
``SMS_CARRIER_API_PER_SECOND``     10         requests a second the status fetch and the
                                              daily carrier audit make, at most
=================================  =========  ===============================================
"""

from __future__ import annotations

import hashlib
import hmac
import os
from decimal import Decimal
from typing import Any

from flask import Flask


def _env_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def simulator_token(secret_key: str | bytes) -> str:
    """The simulator's webhook secret, derived from the host's ``SECRET_KEY`` (hex
    HMAC-SHA256): never a public constant, yet the same in every web process and worker of
    one instance, on any machine, with nothing to store or share but the key they already
    share."""
    key = secret_key.encode() if isinstance(secret_key, str) else secret_key
    return hmac.new(key, b"crmhost sms simulator webhooks", hashlib.sha256).hexdigest()


def defaults(
    env: os._Environ | dict[str, str] = os.environ,
    public_base_url: str = "http://127.0.0.1:5000",
    secret_key: str | bytes = "",
) -> dict[str, Any]:
    """Return each setting's default, taking the environment variables named above;
    ``public_base_url`` is the host's ``PUBLIC_BASE_URL``, ``secret_key`` its
    ``SECRET_KEY``."""
    get = env.get
    return {
        "SMS_PROVIDER": get("SMS_PROVIDER", "simulator"),
        "SMS_PUBLIC_BASE_URL": get("SMS_PUBLIC_BASE_URL", public_base_url),
        "TWILIO_ACCOUNT_SID": get("TWILIO_ACCOUNT_SID"),
        "TWILIO_AUTH_TOKEN": get("TWILIO_AUTH_TOKEN"),
        "TWILIO_API_BASE_URL": get("TWILIO_API_BASE_URL"),
        "SMS_PRICE_PER_SEGMENT": Decimal(get("SMS_PRICE_PER_SEGMENT", "0.0100")),
        "SMS_CURRENCY": get("SMS_CURRENCY", "CAD"),
        "SMS_GSM_PER_SEGMENT": 153,
        "SMS_UNICODE_PER_SEGMENT": 67,
        "SMS_MAX_CHARACTERS": 1600,
        "SMS_JOB_TIMEOUT": 45,
        "SMS_SEND_LEASE_SECONDS": 30,
        "SMS_LEASE_TTL_SECONDS": 3,
        "SMS_SWEEP_GRACE_SECONDS": 5,
        "SMS_EVENT_SWEEP_HOURS": 24,
        "SMS_RATE_MARGIN_SECONDS": 0.03,
        "SMS_RATE_MAX_WAIT": 0.5,
        "SMS_BATCH_SECONDS": 5.0,
        "SMS_MAX_ATTEMPTS": 4,
        "SMS_RETRY_BASE_SECONDS": 2,
        "SMS_SIMULATOR_CALLBACK_DELAY": 1.0,
        "SMS_SIMULATOR_AUTH_TOKEN": get("SMS_SIMULATOR_AUTH_TOKEN") or simulator_token(secret_key),
        "SMS_REMINDER_HOURS_BEFORE": 24,
        "SMS_QUIET_START_HOUR": 21,
        "SMS_QUIET_END_HOUR": 8,
        "SMS_METRICS_TOKEN": get("SMS_METRICS_TOKEN"),
        "SMS_OPERATOR_EMAILS": _env_list(get("SMS_OPERATOR_EMAILS", "")),
        "SMS_HELP_PHONE": get("SMS_HELP_PHONE"),
        "SMS_HELP_ANSWER_SECONDS": 3600,
        "SMS_STOP_ANSWER_SECONDS": 86400,
        "SMS_START_ANSWER_SECONDS": 3600,
        "SMS_FORWARDS_PER_HOUR": 10,
        "SMS_MAIL_CONCURRENCY": 1,
        "SMS_MAIL_RETRY_SECONDS": [30, 120, 600, 1800, 3600],
        "SMS_RECONCILE_SKEW_SECONDS": 120,
        "SMS_RECONCILE_WAIT_SECONDS": 60,
        "SMS_RECONCILE_MAX_WAIT_MINUTES": 30,
        "SMS_STATUS_FETCH_AFTER_HOURS": 12,
        "SMS_STATUS_FETCH_EVERY_HOURS": 6,
        "SMS_CARRIER_API_PER_SECOND": 10,
    }


class SmsModule:
    """The SMS module bound to an app (``app.extensions["sms"]``): its settings."""

    def init_app(self, app: Flask) -> None:
        """Default every ``SMS_`` setting not set yet."""
        found = defaults(
            public_base_url=app.config["PUBLIC_BASE_URL"], secret_key=app.config["SECRET_KEY"]
        )
        for key, value in found.items():
            app.config.setdefault(key, value)
        app.extensions["sms"] = self


sms = SmsModule()
