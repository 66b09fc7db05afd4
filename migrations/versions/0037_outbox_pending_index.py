"""outbox: the claim reads pending entries in due order from a partial index

ix_outbox_due (done_at, available_at) had the claim sort its matches, and on PostgreSQL read
them by a bitmap scan, which visits every version of every entry sent since the last vacuum:
the claim cost grew with the number of messages ever sent.

Revision ID: 0037
Revises: 0036
"""

import sqlalchemy as sa
from alembic import op

revision = "0037"
down_revision = "0036"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pending = sa.text("done_at IS NULL")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_pending",
            ["available_at", "id"],
            unique=False,
            sqlite_where=pending,
            postgresql_where=pending,
        )
        batch_op.drop_index("ix_outbox_due")


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_due", ["done_at", "available_at"], unique=False)
        batch_op.drop_index("ix_outbox_pending")
