"""forward failures: when a reply's forward by e-mail was given up on, and why

Revision ID: e15c0c0c0001
Revises: e15b0b0b0001
Create Date: 2026-12-01 11:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e15c0c0c0001'
down_revision = 'e15b0b0b0001'
branch_labels = None
depends_on = None


def upgrade():
    # A forward that finally fails is recorded as failed, never as done (issue 15, point 5).
    with op.batch_alter_table('sms_message', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('forward_failed_at', sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column('forward_error', sa.String(length=40), nullable=True))


def downgrade():
    with op.batch_alter_table('sms_message', schema=None) as batch_op:
        batch_op.drop_column('forward_error')
        batch_op.drop_column('forward_failed_at')
