"""policy topics: each category's forbidden topics for AI text, stored with its policy

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("approval_policies") as batch_op:
        batch_op.add_column(sa.Column("forbidden_topics", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("approval_policies") as batch_op:
        batch_op.drop_column("forbidden_topics")
