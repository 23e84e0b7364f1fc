"""event outbox

Revision ID: e15a0a0a0001
Revises: d12a0c0d0e01
Create Date: 2026-12-01 09:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "e15a0a0a0001"
down_revision = "d12a0c0d0e01"
branch_labels = None
depends_on = None


def upgrade():
    # The host's event log, written in the transaction of the save that caused the event,
    # and the SMS module's record of the events it has handled (issue 15, point 1).
    op.create_table(
        "host_event",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("hook", sa.String(length=40), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("created", sa.Boolean(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_host_event")),
        # Never an id again after the newest rows are pruned (plugins key work by it).
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("host_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_host_event_occurred_at"), ["occurred_at"], unique=False
        )

    op.create_table(
        "sms_event_handled",
        sa.Column("event_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_sms_event_handled")),
    )
    with op.batch_alter_table("sms_event_handled", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sms_event_handled_handled_at"), ["handled_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("sms_event_handled", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sms_event_handled_handled_at"))
    op.drop_table("sms_event_handled")
    with op.batch_alter_table("host_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_host_event_occurred_at"))
    op.drop_table("host_event")
