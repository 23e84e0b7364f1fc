"""Status and failure move together: ``lifecycle.fail`` writes status, failure code and
reason at once, or nothing (PRODUCT.md §6: status and failure reason are separate fields)."""

from __future__ import annotations

import pytest

from plugins.sms_module.models import SmsMessage, Source, Status, lifecycle


def a_message(status: Status) -> SmsMessage:
    message = SmsMessage(phone="+15145550101", body="Hi")
    lifecycle.start(message, status, Source.MODULE)
    return message


def test_fail_writes_status_code_and_reason_with_one_history_line():
    message = a_message(Status.SENDING)
    assert lifecycle.fail(message, "30003", "Unreachable handset", Source.PROVIDER_CALLBACK)
    assert (message.status, message.failure_code, message.failure_reason) == (
        Status.FAILED,
        "30003",
        "Unreachable handset",
    )
    assert [(h.status, h.source, h.detail) for h in message.history][-1] == (
        Status.FAILED,
        Source.PROVIDER_CALLBACK,
        "30003",
    )


def test_fail_to_undelivered_keeps_the_carrier_word_as_detail():
    message = a_message(Status.SENT)
    assert lifecycle.fail(
        message, "30005", "Unknown number", Source.PROVIDER_CALLBACK, "undelivered",
        Status.UNDELIVERED,
    )  # fmt: skip
    assert (message.status, message.failure_code) == (Status.UNDELIVERED, "30005")
    assert message.history[-1].detail == "undelivered"


@pytest.mark.parametrize("final", [Status.DELIVERED, Status.CANCELED, Status.FAILED])
def test_a_refused_failure_changes_nothing(final):
    message = a_message(final)
    message.failure_code = None if final != Status.FAILED else "no_consent"
    before = (message.status, message.failure_code, message.failure_reason, len(message.history))
    assert not lifecycle.fail(message, "30008", "Unknown error", Source.PROVIDER_CALLBACK)
    after = (message.status, message.failure_code, message.failure_reason, len(message.history))
    assert after == before


@pytest.mark.parametrize("failure", [Status.FAILED, Status.UNDELIVERED])
def test_move_never_reaches_a_failure_without_its_code(failure):
    message = a_message(Status.SENDING)
    with pytest.raises(ValueError):
        lifecycle.move(message, failure, Source.PROVIDER_CALLBACK)
    assert message.status == Status.SENDING and message.failure_code is None


def test_fail_only_moves_to_a_failure():
    with pytest.raises(ValueError):
        lifecycle.fail(a_message(Status.SENDING), "x", "y", Source.MODULE, status=Status.SENT)


def test_refused_keeps_the_audit_row_of_a_request_a_rule_refused():
    message = SmsMessage(phone="+15145550101", body="Hi")
    lifecycle.refused(message, "no_consent", "No consent", Source.STAFF)
    assert (message.status, message.failure_code, message.failure_reason) == (
        Status.FAILED,
        "no_consent",
        "No consent",
    )
    assert message.history[-1].detail == "refused: no_consent"
