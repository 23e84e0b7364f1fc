"""webhooks at speed: what the delivery-report and reply paths read

Revision ID: e14d0d0d0001
Revises: e14c0c0c0001
Create Date: 2026-12-01 00:00:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e14d0d0d0001'
down_revision = 'e14c0c0c0001'
branch_labels = None
depends_on = None


def upgrade():
    # A reply's routing (issue 14, point 5): the last message that went to a phone from the
    # number it wrote to, found by one backward step on this index instead of reading and
    # sorting every message the phone ever had.
    op.create_index(
        'ix_sms_message_phone_sender_number_id',
        'sms_message',
        ['phone', 'sender_number', 'id'],
        unique=False,
    )


def downgrade():
    op.drop_index('ix_sms_message_phone_sender_number_id', table_name='sms_message')
