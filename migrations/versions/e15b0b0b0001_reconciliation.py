"""reconciliation: attempts, status fetches, ambiguous matches and the daily carrier audit

Revision ID: e15b0b0b0001
Revises: e15a0a0a0001
Create Date: 2026-12-01 10:00:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'e15b0b0b0001'
down_revision = 'e15a0a0a0001'
branch_labels = None
depends_on = None

COLUMNS = (
    'attempt_started_at',
    'status_checked_at',
    'reconcile_wait_since',
    'reconcile_flagged_at',
)


def upgrade():
    # Reconciliation that identifies a message, and delivery reports fetched when they do
    # not come (issue 15, points 2 and 3).
    with op.batch_alter_table('sms_message', schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            'ix_sms_message_status_updated_at', ['status', 'updated_at'], unique=False
        )

    op.create_table(
        'sms_carrier_audit',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('checked', sa.Integer(), nullable=False),
        sa.Column('carrier_listed', sa.Integer(), nullable=False),
        sa.Column('missing_at_carrier', sa.Integer(), nullable=False),
        sa.Column('unknown_at_carrier', sa.Integer(), nullable=False),
        sa.Column('matched', sa.Integer(), nullable=False),
        sa.Column('details', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('day'),
    )


def downgrade():
    op.drop_table('sms_carrier_audit')
    with op.batch_alter_table('sms_message', schema=None) as batch_op:
        batch_op.drop_index('ix_sms_message_status_updated_at')
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)
