"""Status labels (``texts.preview.status_label``): what people read for a message's status,
"Refused" for a message a rule refused before the carrier had it, apart from "Failed"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale

from host.models import utcnow
from plugins.sms_module.models import SmsMessage
from plugins.sms_module.models.statuses import Status
from plugins.sms_module.texts.preview import status_label


def label(app, status: Status, code: str | None = None, locale: str = "en", **fields) -> str:
    message = SmsMessage(status=status, failure_code=code, updated_at=utcnow(), **fields)
    with app.test_request_context(), force_locale(locale):
        return status_label(message)


@pytest.mark.parametrize("code", ["no_consent", "opted_out", "location_missing", "module_off"])
def test_a_refusal_is_labelled_refused_not_failed(app, code):
    assert label(app, Status.FAILED, code) == "Refused"


@pytest.mark.parametrize("code", ["30003", "carrier_error", None])
def test_a_carriers_failure_stays_failed(app, code):
    assert label(app, Status.FAILED, code) == "Failed"


def test_refused_in_french(app):
    assert label(app, Status.FAILED, "no_consent", "fr") == "Refusé"
    assert label(app, Status.FAILED, "30003", "fr") == "Échec"


def test_other_statuses_keep_their_labels(app):
    assert label(app, Status.DELIVERED) == "Delivered"
    assert label(app, Status.CANCELED, "no_consent") == "Canceled"
    old = utcnow() - timedelta(hours=73)
    message = SmsMessage(status=Status.SENT, updated_at=old)
    with app.test_request_context(), force_locale("en"):
        assert status_label(message) == "Sent — no delivery report"
