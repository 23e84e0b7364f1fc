"""customer_search

Revision ID: d12a0c0d0e01
Revises: c13b0d1e2f02
Create Date: 2026-11-30 17:00:00

"""
import unicodedata

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'd12a0c0d0e01'
down_revision = 'c13b0d1e2f02'
branch_labels = None
depends_on = None

BATCH = 1000


def search_fold(text):
    """host.models.search_fold as of this revision: no accents, case folded, single spaces."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def upgrade():
    # What the customer search looks in: names, e-mail and phone without accents or case,
    # so that "cote" finds "Côté" on SQLite and PostgreSQL alike (issue 12, point 5).
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('search_text', sa.Text(), server_default='', nullable=False)
        )

    customer = sa.table(
        'customer',
        sa.column('id', sa.Integer),
        sa.column('first_name', sa.String),
        sa.column('last_name', sa.String),
        sa.column('email', sa.String),
        sa.column('mobile_phone', sa.String),
        sa.column('search_text', sa.Text),
    )
    conn = op.get_bind()
    last_id = 0
    while True:
        rows = conn.execute(
            sa.select(
                customer.c.id,
                customer.c.first_name,
                customer.c.last_name,
                customer.c.email,
                customer.c.mobile_phone,
            )
            .where(customer.c.id > last_id)
            .order_by(customer.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        conn.execute(
            customer.update()
            .where(customer.c.id == sa.bindparam('customer_id'))
            .values(search_text=sa.bindparam('folded')),
            [
                {
                    'customer_id': row.id,
                    'folded': search_fold(
                        " ".join(
                            p
                            for p in (row.first_name, row.last_name, row.email, row.mobile_phone)
                            if p
                        )
                    ),
                }
                for row in rows
            ],
        )
        last_id = rows[-1].id


def downgrade():
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_column('search_text')
