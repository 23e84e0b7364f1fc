"""shop contact: the number a shop's HELP answer gives its customers

Revision ID: b11b0c7e5f02
Revises: b11a0c7e5f01
Create Date: 2026-11-30 14:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b11b0c7e5f02'
down_revision = 'b11a0c7e5f01'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sms_shop_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_phone', sa.String(length=20), nullable=True))


def downgrade():
    with op.batch_alter_table('sms_shop_settings', schema=None) as batch_op:
        batch_op.drop_column('contact_phone')
