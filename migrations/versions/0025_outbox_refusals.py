"""outbox refusals and retrying_since: only refusals lead to failover; retries last a horizon

Revision ID: 0025
Revises: 0024
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("refusals", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("retrying_since", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("retrying_since")
        batch_op.drop_column("refusals")
