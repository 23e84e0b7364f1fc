"""session version

Revision ID: c13a0d1e2f01
Revises: b11c0c7e5f03
Create Date: 2026-11-30 15:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c13a0d1e2f01'
down_revision = 'b11c0c7e5f03'
branch_labels = None
depends_on = None


def upgrade():
    # Every session of a user names this version; raising it ends them all.
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('session_version', sa.Integer(), server_default='0', nullable=False)
        )


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('session_version')
