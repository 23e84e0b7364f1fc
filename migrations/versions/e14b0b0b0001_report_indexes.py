"""reports at scale: indexes and summary rows the report pages read

Revision ID: e14b0b0b0001
Revises: e14a0a0a0001
Create Date: 2026-12-01 00:00:00

The summary tables (``plugins/sms_module/models/report_tables.py``), the triggers that keep
them (``report_triggers``, the SQL of this revision's code), their first filling from the
messages already stored (``report_rebuild.rebuild_summaries``), and the indexes the report
pages walk in order (issue 14, point 2).
"""

import sqlalchemy as sa
from alembic import op

from host.regions import PROVINCES
from plugins.sms_module.models import report_rebuild, report_triggers

# revision identifiers, used by Alembic.
revision = "e14b0b0b0001"
down_revision = "e14a0a0a0001"
branch_labels = None
depends_on = None


def _figures():
    return [
        sa.Column("view", sa.SmallInteger(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("queue", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("bucket", sa.SmallInteger(), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("charged", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("segments", sa.Integer(), nullable=False),
        sa.Column("cost", sa.Numeric(precision=18, scale=5), nullable=False),
        sa.Column("low", sa.Double(), nullable=True),
        sa.Column("high", sa.Double(), nullable=True),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
    ]


def upgrade():
    op.create_table(
        "sms_report_day",
        *_figures(),
        sa.PrimaryKeyConstraint(
            "view",
            "company_id",
            "bucket",
            "day",
            "queue",
            "status",
            "code",
            "currency",
            name=op.f("pk_sms_report_day"),
        ),
    )
    op.create_table(
        "sms_report_delta",
        sa.Column("id", sa.Integer(), nullable=False),
        *_figures(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_report_delta")),
    )
    op.create_table(
        "sms_report_conversation",
        sa.Column("owner", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("owner", "phone", name=op.f("pk_sms_report_conversation")),
    )
    op.create_index(
        "ix_sms_report_conversation_owner_last_id",
        "sms_report_conversation",
        ["owner", "last_id"],
        unique=False,
    )
    op.create_table(
        "sms_report_region",
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("province_code", sa.String(length=2), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("country_code", "province_code", name=op.f("pk_sms_report_region")),
    )
    op.create_table(
        "sms_report_shop",
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("company_id", name=op.f("pk_sms_report_shop")),
    )
    op.create_index(
        "ix_sms_message_report_shop",
        "sms_message",
        ["company_id", "created_at", "id", "status", "queue", "direction"],
        unique=False,
    )
    op.create_index(
        "ix_sms_message_report_all",
        "sms_message",
        ["created_at", "id", "status", "queue", "direction"],
        unique=False,
    )
    op.create_index(
        "ix_sms_message_report_sent",
        "sms_message",
        ["company_id", "updated_at", "created_at", "queue", "direction"],
        unique=False,
        postgresql_where=sa.text("status = 'sent'"),
        sqlite_where=sa.text("status = 'sent'"),
    )
    op.create_index(
        "ix_sms_consent_event_report", "sms_consent_event", ["company_id", "id"], unique=False
    )
    op.create_index("ix_sms_opt_out_event_report", "sms_opt_out_event", ["at", "id"], unique=False)
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # The planner's joint counts of status and failure code: a page of refusals (a
        # failed status with a rule's code) walks the log's index instead of sorting.
        op.execute(
            "CREATE STATISTICS IF NOT EXISTS sms_message_status_code (mcv) "
            "ON status, failure_code FROM sms_message"
        )
    # Every province's zone, so that a new shop's days are its own from its first message.
    zones = {
        (country, province): zone
        for country, provinces in PROVINCES.items()
        for province, (_name, zone) in provinces.items()
    }
    report_rebuild.fill_regions(bind, zones)
    report_triggers.install(bind)
    report_rebuild.rebuild_summaries(bind)


def downgrade():
    report_triggers.uninstall(op.get_bind())
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP STATISTICS IF EXISTS sms_message_status_code")
    op.drop_index("ix_sms_opt_out_event_report", table_name="sms_opt_out_event")
    op.drop_index("ix_sms_consent_event_report", table_name="sms_consent_event")
    op.drop_index("ix_sms_message_report_sent", table_name="sms_message")
    op.drop_index("ix_sms_message_report_all", table_name="sms_message")
    op.drop_index("ix_sms_message_report_shop", table_name="sms_message")
    op.drop_table("sms_report_shop")
    op.drop_table("sms_report_region")
    op.drop_index("ix_sms_report_conversation_owner_last_id", table_name="sms_report_conversation")
    op.drop_table("sms_report_conversation")
    op.drop_table("sms_report_delta")
    op.drop_table("sms_report_day")
