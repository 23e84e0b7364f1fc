"""Names never break an e-mail header (issue 13 §10): the forms refuse line breaks in every
one-line field (shop, user and customer names), and ``send_mail`` never writes a raw line
break into a header, even for a name stored before the forms refused them."""

from __future__ import annotations

import pytest

from host.extensions import db
from host.mail import header_text, send_mail
from host.models import Company
from tests.host.support_views import CUSTOMER, assert_refused
from tests.support_mail import smtp_server  # noqa: F401 (the fixture)
from tests.support_pages import row_counts

ONE_LINE = "Write this on one line: remove the line breaks."
INJECTED = "Bob\r\nBcc: victim@example.com"


@pytest.mark.parametrize("name", [INJECTED, "Bob\nSmith", "Bob\rSmith", "Bob\u2028Smith"])
def test_customer_names_with_line_breaks_are_refused(admin, app, shops, name):
    before = row_counts(app)
    for field in ("first_name", "last_name"):
        data = {**CUSTOMER, field: name}
        assert_refused(app, admin.post("/customers/new", data=data), before, ONE_LINE)


def test_user_and_shop_names_with_line_breaks_are_refused(admin, app, shops):
    before = row_counts(app)
    user = {"email": "new@example.com", "name": INJECTED, "role": "staff", "password": "x" * 10}
    assert_refused(app, admin.post("/users/new", data=user), before, ONE_LINE)
    shop = {"name": "Garage\nA", "v2v_number": "", "country": "CA", "province": "QC"}
    url = f"/companies/{shops['a']['shop']}"
    assert_refused(app, admin.post(url, data={**shop, "language": "en"}), before, ONE_LINE)
    with app.app_context():
        assert db.session.get(Company, shops["a"]["shop"]).name == "Garage A"


def test_header_text_keeps_one_line():
    assert header_text("SMS reply from " + INJECTED) == (
        "SMS reply from Bob Bcc: victim@example.com"
    )
    assert header_text("a\u2028b\x85c\x00d\te") == "a b c d e"
    assert header_text("Élodie Tremblay (+15145550101)") == "Élodie Tremblay (+15145550101)"


def test_a_stored_name_with_a_line_break_cannot_inject_a_header(app, smtp_server):  # noqa: F811
    # A name saved before the forms refused line breaks, forwarded in a subject.
    port, inbox = smtp_server
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_FROM="crm@example.com")
    with app.app_context():
        send_mail(["shop@example.com"], f"SMS reply from {INJECTED}", "Hello")
    [(recipients, message)] = inbox.wait(1)
    assert recipients == ["shop@example.com"]
    assert message["Subject"] == "SMS reply from Bob Bcc: victim@example.com"
    assert message["Bcc"] is None
