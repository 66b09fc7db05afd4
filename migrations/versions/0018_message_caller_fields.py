"""messages carry the caller's reference and metadata; the log reads by time, batch, reference

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reference", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("caller_metadata", sa.JSON(), nullable=True))
        batch_op.create_index("ix_messages_reference", ["reference"], unique=False)
        batch_op.create_index("ix_messages_batch_id", ["batch_id"], unique=False)
        batch_op.create_index("ix_messages_created_at_id", ["created_at", "id"], unique=False)
        batch_op.create_index(
            "ix_messages_requested_by_created_at",
            ["requested_by", "created_at", "id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_requested_by_created_at")
        batch_op.drop_index("ix_messages_created_at_id")
        batch_op.drop_index("ix_messages_batch_id")
        batch_op.drop_index("ix_messages_reference")
        batch_op.drop_column("caller_metadata")
        batch_op.drop_column("reference")
