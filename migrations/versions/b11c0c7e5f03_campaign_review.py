"""campaign review: a campaign's status (draft, confirmed, sending, canceled), its French
text, who confirmed and who canceled it, and when

Revision ID: b11c0c7e5f03
Revises: b11b0c7e5f02
Create Date: 2026-11-30 14:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b11c0c7e5f03'
down_revision = 'b11b0c7e5f02'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sms_campaign', schema=None) as batch_op:
        batch_op.add_column(sa.Column('body_fr', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('status', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('confirmed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('canceled_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('canceled_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_sms_campaign_confirmed_by_id_user'), 'user', ['confirmed_by_id'], ['id']
        )
        batch_op.create_foreign_key(
            batch_op.f('fk_sms_campaign_canceled_by_id_user'), 'user', ['canceled_by_id'], ['id']
        )
    # The campaigns of before went as soon as they were saved: confirmed by their author,
    # and sending once their fan-out ran.
    op.execute(
        "UPDATE sms_campaign SET "
        "status = CASE WHEN prepared_at IS NULL THEN 'confirmed' ELSE 'sending' END, "
        "confirmed_at = created_at, confirmed_by_id = created_by_id"
    )
    with op.batch_alter_table('sms_campaign', schema=None) as batch_op:
        batch_op.alter_column('status', existing_type=sa.String(length=20), nullable=False)


def downgrade():
    # Without a status, a campaign not prepared goes: drafts and canceled ones must not.
    op.execute(
        "UPDATE sms_campaign SET prepared_at = created_at, stopped_code = 'canceled' "
        "WHERE status IN ('draft', 'canceled') AND prepared_at IS NULL"
    )
    with op.batch_alter_table('sms_campaign', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_sms_campaign_canceled_by_id_user'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_sms_campaign_confirmed_by_id_user'), type_='foreignkey')
        batch_op.drop_column('canceled_by_id')
        batch_op.drop_column('canceled_at')
        batch_op.drop_column('confirmed_by_id')
        batch_op.drop_column('confirmed_at')
        batch_op.drop_column('status')
        batch_op.drop_column('body_fr')
