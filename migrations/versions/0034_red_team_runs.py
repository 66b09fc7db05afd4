"""red-team runs: adversarial checks of a version's AI slots, kept with its review

Revision ID: 0034
Revises: 0025
"""

import sqlalchemy as sa
from alembic import op

revision = "0034"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "red_team_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("template_version_id", sa.Integer(), nullable=False),
        sa.Column("run_by", sa.String(length=254), nullable=False),
        sa.Column("run_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("judge", sa.String(length=200), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("cases", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["template_version_id"],
            ["template_versions.id"],
            name=op.f("fk_red_team_runs_template_version_id_template_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_red_team_runs")),
    )
    with op.batch_alter_table("red_team_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_red_team_runs_template_version_id"), ["template_version_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("red_team_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_red_team_runs_template_version_id"))
    op.drop_table("red_team_runs")
