"""users.phone: the person's own number, where a test SMS or chat message from the editor goes

Revision ID: 0032
Revises: 0028
"""

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone", sa.String(length=32), nullable=True))


def downgrade() -> None:
    # SQLite (3.35+) drops the column in place: copying `users` would trip the keys that
    # reference it (api_keys), which SQLite enforces here.
    with op.batch_alter_table("users", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("phone")
