"""The first-SMS disclaimer goes before the message it announces, once per phone, and its
text is kept in the consent ledger."""

from sqlalchemy import select

from host.extensions import db
from plugins.sms_module.models import ConsentEvent, ConsentKind, SmsMessage
from tests.support_sms import give_consent, ready_to_send


def test_disclaimer_text_is_kept_in_the_ledger_when_sent(app, shops):
    from plugins.sms_module import jobs

    app.config["SMS_SIMULATOR_CALLBACK_DELAY"] = None
    with app.app_context():
        company, customer = ready_to_send(shops, disclaimed=False)
        from plugins.sms_module.sending import service

        message = service.request_send(company, customer=customer, body="Bonjour")
        first = db.session.scalar(select(SmsMessage).where(SmsMessage.kind == "disclaimer"))
        # The message waits for its disclaimer, whatever order the workers take them in.
        assert jobs.send_message(message.id) == "waiting for the disclaimer"
        assert jobs.send_message(first.id) == "sent"
        ledger = db.session.scalar(
            select(ConsentEvent).where(ConsentEvent.kind == ConsentKind.DISCLAIMER_SENT)
        )
        assert ledger.text == first.body and ledger.phone == customer.mobile_phone
        # A second message to the same phone gets no second disclaimer.
        service.request_send(company, customer=customer, body="Encore")
        assert db.session.query(SmsMessage).filter_by(kind="disclaimer").count() == 1
        give_consent(customer.id)
