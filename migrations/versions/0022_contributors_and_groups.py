"""contributors on versions (everyone who changed one) and reviewer groups on users

Existing reviewers get the groups of every stage in the policies in force (the built-in ones
and the admins'), so everything they could decide before they still can after the upgrade.

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

TABLES = ("template_versions", "block_versions", "theme_versions")
# The built-in policies' stages (hcs.governance.policies.DEFAULTS when this was written).
DEFAULT_STAGES = {
    "marketing": ["legal", "brand"],
    "transactional": ["legal"],
    "service": ["legal"],
    "sensitive": ["legal", "security"],
    "component": ["legal"],
}


def _stage_groups() -> dict[str, set[str]]:
    """Per role, the groups of the stages that role decides in the policies in force."""
    policies = sa.table("approval_policies", sa.column("category"), sa.column("stages", sa.JSON))
    stages = {
        category: [{"name": name, "role": "reviewer"} for name in names]
        for category, names in DEFAULT_STAGES.items()
    }
    for category, stored in op.get_bind().execute(
        sa.select(policies.c.category, policies.c.stages)
    ):
        stages[category] = stored
    held: dict[str, set[str]] = {}
    for stage in (s for listed in stages.values() for s in listed):
        held.setdefault(stage["role"], set()).add(stage.get("group") or stage["name"])
    return held


def _give_groups() -> None:
    users = sa.table(
        "users",
        sa.column("id", sa.Integer),
        sa.column("roles", sa.JSON),
        sa.column("groups", sa.JSON),
    )
    held = _stage_groups()
    for user_id, roles in op.get_bind().execute(sa.select(users.c.id, users.c.roles)).all():
        groups = sorted(set().union(*(held.get(role, set()) for role in roles or [])))
        if groups:
            op.execute(users.update().where(users.c.id == user_id).values(groups=groups))


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

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("groups", sa.JSON(), nullable=False, server_default="[]"))
    _give_groups()


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("groups")
    for name in TABLES:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_column("contributors")
