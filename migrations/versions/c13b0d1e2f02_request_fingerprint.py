"""request fingerprint

Revision ID: c13b0d1e2f02
Revises: c13a0d1e2f01
Create Date: 2026-11-30 15:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c13b0d1e2f02'
down_revision = 'c13a0d1e2f01'
branch_labels = None
depends_on = None


def upgrade():
    # The SHA-256 of an API request sent with an Idempotency-Key (issue 13, point 8).
    with op.batch_alter_table('sms_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_fingerprint', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('sms_message', schema=None) as batch_op:
        batch_op.drop_column('request_fingerprint')
