"""fenced leases: a fencing token on outbox entries, and leases on housekeeping

Revision ID: 0028
Revises: 0033
"""

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0033"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("lease_token", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "worker_leases",
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=True),
        sa.Column("token", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("leased_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_worker_leases")),
    )


def downgrade() -> None:
    op.drop_table("worker_leases")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("lease_token")
