"""message guards: the appointment a message is about, the start its text states, its
guard and its expiry

Revision ID: b11a0c7e5f01
Revises: de8e036621a3
Create Date: 2026-11-30 14:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b11a0c7e5f01'
down_revision = 'de8e036621a3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sms_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('appointment_id', sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column('appointment_starts_at', sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column('guard', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            batch_op.f('ix_sms_message_appointment_id'), ['appointment_id'], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f('fk_sms_message_appointment_id_appointment'), 'appointment', ['appointment_id'], ['id']
        )


def downgrade():
    with op.batch_alter_table('sms_message', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_sms_message_appointment_id_appointment'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_sms_message_appointment_id'))
        batch_op.drop_column('expires_at')
        batch_op.drop_column('guard')
        batch_op.drop_column('appointment_starts_at')
        batch_op.drop_column('appointment_id')
