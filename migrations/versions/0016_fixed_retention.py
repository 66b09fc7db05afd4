"""fixed retention: each archive entry's retain_until (sealed with it), the admin's policy

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("archive_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retain_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_archive_entries_retain_until"), ["retain_until"], unique=False
        )
    op.create_table(
        "archive_retention",
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("set_by", sa.String(length=300), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("category", name=op.f("pk_archive_retention")),
    )


def downgrade() -> None:
    op.drop_table("archive_retention")
    with op.batch_alter_table("archive_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_archive_entries_retain_until"))
        batch_op.drop_column("retain_until")
