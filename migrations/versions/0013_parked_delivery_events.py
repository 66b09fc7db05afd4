"""parked delivery events: provider reports that came before their message's `sent`

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "parked_delivery_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("provider_message_id", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parked_delivery_events")),
    )
    with op.batch_alter_table("parked_delivery_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_parked_delivery_events_provider_message_id",
            ["provider", "provider_message_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_parked_delivery_events_received_at"), ["received_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("parked_delivery_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_parked_delivery_events_received_at"))
        batch_op.drop_index("ix_parked_delivery_events_provider_message_id")
    op.drop_table("parked_delivery_events")
