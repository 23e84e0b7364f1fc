"""The transition table: no status ever moves backwards."""

import itertools

import pytest

from plugins.sms_module.models.codes import REFUSALS, FailureCode
from plugins.sms_module.models.statuses import (
    RANK,
    TERMINAL,
    TRANSITIONS,
    Status,
    can_move,
    is_refusal,
)

OUTBOUND = [s for s in Status if s not in (Status.RECEIVING, Status.RECEIVED)]
INBOUND = [Status.RECEIVING, Status.RECEIVED]


@pytest.mark.parametrize("current,target", list(itertools.product(Status, Status)))
def test_no_transition_goes_backwards(current, target):
    if can_move(current, target):
        assert RANK[target] > RANK[current], f"{current} -> {target} goes backwards"
        same_family = (current in OUTBOUND) == (target in OUTBOUND)
        assert same_family, f"{current} -> {target} crosses inbound/outbound"
    if current in TERMINAL:
        assert not can_move(current, target)


def test_every_status_has_a_row_and_the_expected_path_is_allowed():
    assert set(TRANSITIONS) == set(Status)
    path = [Status.ACCEPTED, Status.SCHEDULED, Status.QUEUED, Status.SENDING, Status.SENT]
    for a, b in itertools.pairwise(path):
        assert can_move(a, b)
    for end in (Status.DELIVERED, Status.UNDELIVERED, Status.FAILED):
        assert can_move(Status.SENT, end)
    assert can_move(Status.RECEIVING, Status.RECEIVED)
    assert can_move(Status.SCHEDULED, Status.CANCELED)
    assert not can_move(Status.SENDING, Status.CANCELED)  # at the carrier: too late


# --- refusals are not failures (issue 11, point 5) ----------------------------------------


def test_every_code_the_module_writes_is_a_refusal_but_the_carrier_error():
    assert REFUSALS == set(FailureCode) - {FailureCode.CARRIER_ERROR}
    assert {"no_consent", "opted_out", "location_missing", "module_off", "v2v_missing"} <= REFUSALS


@pytest.mark.parametrize(
    ("status", "code", "refusal"),
    [
        (Status.FAILED, "no_consent", True),
        (Status.FAILED, FailureCode.OPTED_OUT, True),
        (Status.FAILED, "module_off", True),
        (Status.FAILED, "location_missing", True),
        (Status.FAILED, "v2v_missing", True),
        (Status.FAILED, "carrier_error", False),  # the carrier's answer, without its code
        (Status.FAILED, "30003", False),  # the carrier's code
        (Status.FAILED, None, False),
        (Status.UNDELIVERED, "30005", False),
        (Status.CANCELED, "no_consent", False),  # only a Failed message is a refusal
        ("failed", "opted_out", True),  # as a row reads it
    ],
)
def test_is_refusal(status, code, refusal):
    assert is_refusal(status, code) is refusal
