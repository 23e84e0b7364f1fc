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


def test_the_answer_to_a_keyword_goes_without_a_disclaimer(app, shops):
    # The phone asked for it (HELP): at acceptance and just before the carrier alike, the
    # answer needs no disclaimer, even to a known customer who never had one.
    from plugins.sms_module import jobs
    from plugins.sms_module.conversations import answers

    app.config["SMS_SIMULATOR_CALLBACK_DELAY"] = None
    with app.app_context():
        company, customer = ready_to_send(shops, disclaimed=False)
        answer = answers.answer(company, customer, customer.mobile_phone, "+14386013562", "help")
        db.session.add(answer)
        db.session.commit()
        assert jobs.send_message(answer.id) == "sent"
        assert db.session.query(SmsMessage).filter_by(kind="disclaimer").count() == 0
