"""fair sending: each due message's place in its sender number's turn-taking

Revision ID: e14a0a0a0001
Revises: e15c0c0c0001
Create Date: 2026-12-01 00:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e14a0a0a0001'
down_revision = 'e15c0c0c0001'
branch_labels = None
depends_on = None

WAITING = "status IN ('queued', 'scheduled')"


def upgrade():
    # Shops take turns on each sender number (issue 14, point 1): a due message's tag is its
    # virtual send time; NULL until due (sending/fairness.py).
    with op.batch_alter_table('sms_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fair_tag', sa.Double(), nullable=True))
    op.create_index(
        'ix_sms_message_fair_order',
        'sms_message',
        ['queue', 'fair_tag', 'id'],
        unique=False,
        postgresql_where=sa.text(WAITING + " AND fair_tag IS NOT NULL"),
        sqlite_where=sa.text(WAITING + " AND fair_tag IS NOT NULL"),
    )
    op.create_index(
        'ix_sms_message_fair_untagged',
        'sms_message',
        ['queue', 'send_at'],
        unique=False,
        postgresql_where=sa.text(WAITING + " AND fair_tag IS NULL"),
        sqlite_where=sa.text(WAITING + " AND fair_tag IS NULL"),
    )


def downgrade():
    op.drop_index('ix_sms_message_fair_untagged', table_name='sms_message')
    op.drop_index('ix_sms_message_fair_order', table_name='sms_message')
    with op.batch_alter_table('sms_message', schema=None) as batch_op:
        batch_op.drop_column('fair_tag')
