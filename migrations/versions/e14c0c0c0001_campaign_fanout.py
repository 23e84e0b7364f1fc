"""campaign fan-out at scale: what a resumable, set-based fan-out keeps

Revision ID: e14c0c0c0001
Revises: e14b0b0b0001
Create Date: 2026-12-01 00:00:00

"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = 'e14c0c0c0001'
down_revision = 'e14b0b0b0001'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
