"""contributors on template, block and theme versions: everyone who changed a version

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

TABLES = ("template_versions", "block_versions", "theme_versions")


def upgrade() -> None:
    for name in TABLES:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("contributors", sa.JSON(), nullable=False, server_default="[]")
            )
        table = sa.table(
            name,
            sa.column("id", sa.Integer),
            sa.column("author"),
            sa.column("contributors", sa.JSON),
        )
        rows = op.get_bind().execute(sa.select(table.c.id, table.c.author)).all()
        for row_id, author in rows:  # every existing version was changed by its author
            op.execute(table.update().where(table.c.id == row_id).values(contributors=[author]))


def downgrade() -> None:
    for name in TABLES:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_column("contributors")
