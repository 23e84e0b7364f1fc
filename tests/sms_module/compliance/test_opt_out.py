"""The opt-out list: one row per number, archived rather than deleted, every event kept."""

from sqlalchemy import func, select

from host.extensions import db
from plugins.sms_module.compliance import opt_out
from plugins.sms_module.models import OptOut, OptOutEvent


def test_opt_out_is_one_row_per_number_archived_not_deleted(app, shops):
    phone = "+15145550101"
    with app.app_context():
        opt_out.opt_out(phone, "sms_keyword", shops["a"]["shop"], "STOP")
        db.session.commit()
        opt_out.opt_out(phone, "provider_error", None, "21610")
        db.session.commit()
        assert opt_out.is_opted_out(phone)
        opt_out.opt_in(phone, "sms_keyword", shops["b"]["shop"], "START")
        db.session.commit()
        assert not opt_out.is_opted_out(phone)
        rows = db.session.scalars(select(OptOut)).all()
        assert [(r.phone, r.active) for r in rows] == [(phone, False)]
        events = [(e.action, e.source, e.raw_message, e.company_id) for e in opt_out.events(phone)]
        assert events == [
            ("opt_out", "sms_keyword", "STOP", shops["a"]["shop"]),
            ("opt_out", "provider_error", "21610", None),
            ("opt_in", "sms_keyword", "START", shops["b"]["shop"]),
        ]
        assert db.session.scalar(select(func.count(OptOutEvent.id))) == 3
