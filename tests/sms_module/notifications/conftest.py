"""The staff client of the appointment tests: the clock at ``appointment_form.NOW``, the
shops ready to send, shop A's staff logged in (English)."""

import pytest

from tests.sms_module.notifications.appointment_form import NOW
from tests.support_sms import login_en, ready_to_send


@pytest.fixture
def staff(client, app, shops, time_machine):
    time_machine.move_to(NOW, tick=True)
    with app.app_context():
        ready_to_send(shops)
    login_en(client, shops["a"]["staff"])
    return client
