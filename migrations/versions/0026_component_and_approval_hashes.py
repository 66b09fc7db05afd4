"""closure hashes for block and theme versions, and the hash each approval decided on

Submitted block and theme versions get the hash of their content as it stands now (the same
canonical JSON as `templates_store.closure.component_form` when this was written); every existing
decision records the hash of the version it decided, so versions approved before the upgrade
still send.

Revision ID: 0026
Revises: 0030
"""

import hashlib
import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0030"
branch_labels = None
depends_on = None

# version table, owner table, owner column, the content columns in the canonical form
COMPONENTS = {
    "block": ("block_versions", "content_blocks", "block_id", ("content",)),
    "theme": ("theme_versions", "themes", "theme_id", ("settings", "assets")),
}


def _digest(form: dict[str, Any]) -> str:
    text = json.dumps(form, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _hash_components(kind: str) -> None:
    table, owners, owner_column, fields = COMPONENTS[kind]
    versions = sa.table(
        table,
        sa.column("id", sa.Integer),
        sa.column(owner_column, sa.Integer),
        sa.column("number", sa.Integer),
        sa.column("status", sa.String),
        sa.column("closure_hash", sa.String),
        *(sa.column(name, sa.JSON) for name in fields),
    )
    owner = sa.table(owners, sa.column("id", sa.Integer), sa.column("key", sa.String))
    query = (
        sa.select(versions, owner.c.key)
        .join(owner, owner.c.id == versions.c[owner_column])
        .where(versions.c.status != "draft")
    )
    for row in op.get_bind().execute(query).mappings().all():
        form = {"kind": kind, "key": row["key"], "number": row["number"]}
        form |= {name: row[name] for name in fields}
        op.execute(
            versions.update().where(versions.c.id == row["id"]).values(closure_hash=_digest(form))
        )


def _record_decided_hashes() -> None:
    approvals = sa.table(
        "approvals",
        sa.column("subject_type", sa.String),
        sa.column("subject_id", sa.Integer),
        sa.column("closure_hash", sa.String),
    )
    tables = {"template": "template_versions"} | {k: v[0] for k, v in COMPONENTS.items()}
    for kind, table in tables.items():
        versions = sa.table(table, sa.column("id", sa.Integer), sa.column("closure_hash"))
        stored = (
            sa.select(versions.c.closure_hash)
            .where(versions.c.id == approvals.c.subject_id)
            .scalar_subquery()
        )
        op.execute(
            approvals.update().where(approvals.c.subject_type == kind).values(closure_hash=stored)
        )


def upgrade() -> None:
    for table in ("block_versions", "theme_versions", "approvals"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("closure_hash", sa.String(length=80), nullable=True))
    for kind in COMPONENTS:
        _hash_components(kind)
    _record_decided_hashes()


def downgrade() -> None:
    for table in ("approvals", "theme_versions", "block_versions"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("closure_hash")
