"""webhook costs: two redundant indexes dropped, the delivery step's history read by message

Revision ID: e16a0a0a0001
Revises: e14d0d0d0001
Create Date: 2026-12-02 08:00:00

"""
from alembic import op

from plugins.sms_module.models import report_triggers

# revision identifiers, used by Alembic.
revision = 'e16a0a0a0001'
down_revision = 'e14d0d0d0001'
branch_labels = None
depends_on = None


def upgrade():
    # Every status change writes a new entry in each index of sms_message (a status is in
    # several, so no update is HOT): two indexes that a longer one already leads with cost
    # each delivery report and each send two index writes for no read (issue 14, point 5).
    # ix_sms_message_report_shop leads with company_id (the reports, the shop's foreign key);
    # ix_sms_message_phone_sender_number_id leads with phone (a reply's routing, the phone's
    # messages).
    op.drop_index('ix_sms_message_company_id', table_name='sms_message')
    op.drop_index('ix_sms_message_phone', table_name='sms_message')
    # PostgreSQL's sms_report_step reads a Delivered step's history by message only, in one
    # pass (report_pg._add_step): its lookups by status let the planner, before the table's
    # statistics were gathered, walk the status index of every message's history.
    report_triggers.install(op.get_bind())


def downgrade():
    op.create_index('ix_sms_message_phone', 'sms_message', ['phone'], unique=False)
    op.create_index('ix_sms_message_company_id', 'sms_message', ['company_id'], unique=False)
