"""deferred erasures keep the address (encrypted) until done; signed leaves name a rewritten entry

Revision ID: 0030
Revises: 0034
"""

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0034"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("archive_erasures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recipient", sa.LargeBinary(), nullable=True))
    op.create_table(
        "leaf_signatures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("log", sa.String(length=50), nullable=False),
        sa.Column("first_seq", sa.Integer(), nullable=False),
        sa.Column("signatures", sa.Text(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leaf_signatures")),
    )
    op.create_index(
        "ix_leaf_signatures_log_first_seq", "leaf_signatures", ["log", "first_seq"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_leaf_signatures_log_first_seq", table_name="leaf_signatures")
    op.drop_table("leaf_signatures")
    with op.batch_alter_table("archive_erasures", schema=None) as batch_op:
        batch_op.drop_column("recipient")
