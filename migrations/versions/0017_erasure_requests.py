"""erasure requests: every erasure kept, deferred while a legal hold lasts

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "archive_erasures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lookup", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("requested_by", sa.String(length=300), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("entries", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_erasures")),
    )
    with op.batch_alter_table("archive_erasures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_archive_erasures_lookup"), ["lookup"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("archive_erasures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_archive_erasures_lookup"))
    op.drop_table("archive_erasures")
