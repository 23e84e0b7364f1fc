"""The consent ledger's rows are append-only."""

import pytest
from sqlalchemy import select

from host.extensions import db
from plugins.sms_module.models import AppendOnlyError, ConsentEvent


def test_ledger_is_append_only(app, shops):
    from tests.support_sms import give_consent

    with app.app_context():
        give_consent(shops["a"]["customer"])
        event = db.session.scalar(select(ConsentEvent))
        event.reference = "rewritten"
        with pytest.raises(AppendOnlyError):
            db.session.commit()
        db.session.rollback()
        db.session.delete(db.session.scalar(select(ConsentEvent)))
        with pytest.raises(AppendOnlyError):
            db.session.commit()
