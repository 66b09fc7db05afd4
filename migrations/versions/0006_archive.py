"""archive: sealed entries and delivery events, subject keys, encrypted payloads, legal holds

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UNSEALED = sa.text("seq IS NULL")


def _indexes(table: str, columns: tuple[str, ...], *, unsealed: bool = False) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in columns:
            batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)
        if unsealed:
            batch_op.create_index(
                f"ix_{table}_unsealed",
                ["id"],
                unique=False,
                sqlite_where=UNSEALED,
                postgresql_where=UNSEALED,
            )


def _sealed_columns(table: str) -> list[sa.Column | sa.Constraint]:
    return [
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=True),
        sa.Column("seal_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["seal_id"], ["seals.id"], name=op.f(f"fk_{table}_seal_id_seals")),
        sa.UniqueConstraint("seq", name=op.f(f"uq_{table}_seq")),
    ]


def upgrade() -> None:
    op.create_table(
        "archive_subject_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lookup", sa.String(length=64), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=True),
        sa.Column("master_id", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("erased_by", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_subject_keys")),
    )
    _indexes("archive_subject_keys", ("lookup",))
    op.create_table(
        "archive_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("template", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("closure_hash", sa.String(length=80), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("locale", sa.String(length=35), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("recipient_lookup", sa.String(length=64), nullable=False),
        sa.Column("subject_key_id", sa.Integer(), nullable=False),
        sa.Column("data_digest", sa.String(length=71), nullable=False),
        sa.Column("payload_digest", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("output_size", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=50), nullable=False),
        sa.Column("provider_message_id", sa.String(length=200), nullable=True),
        sa.Column("has_ai", sa.Boolean(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=False),
        *_sealed_columns("archive_entries"),
        sa.ForeignKeyConstraint(
            ["subject_key_id"],
            ["archive_subject_keys.id"],
            name=op.f("fk_archive_entries_subject_key_id_archive_subject_keys"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_entries")),
        sa.UniqueConstraint("message_id", name=op.f("uq_archive_entries_message_id")),
    )
    _indexes(
        "archive_entries",
        (
            "category",
            "channel",
            "recipient_lookup",
            "seal_id",
            "sent_at",
            "subject_key_id",
            "template",
        ),
        unsealed=True,
    )
    op.create_table(
        "archive_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("archive_entry_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("provider", sa.String(length=50), nullable=False),
        sa.Column("detail", sa.LargeBinary(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        *_sealed_columns("archive_events"),
        sa.ForeignKeyConstraint(
            ["archive_entry_id"],
            ["archive_entries.id"],
            name=op.f("fk_archive_events_archive_entry_id_archive_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_events")),
    )
    _indexes("archive_events", ("archive_entry_id", "seal_id"), unsealed=True)
    op.create_table(
        "archive_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("recipient_lookup", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("placed_by", sa.String(length=300), nullable=False),
        sa.Column("placed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_by", sa.String(length=300), nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["archive_entries.id"],
            name=op.f("fk_archive_holds_entry_id_archive_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_holds")),
    )
    _indexes("archive_holds", ("entry_id", "recipient_lookup"))
    op.create_table(
        "archive_payloads",
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
        sa.Column("output", sa.LargeBinary(), nullable=False),
        sa.Column("recipient", sa.LargeBinary(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("ai", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["archive_entries.id"],
            name=op.f("fk_archive_payloads_entry_id_archive_entries"),
        ),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_archive_payloads")),
    )


def downgrade() -> None:
    for table in (
        "archive_payloads",
        "archive_holds",
        "archive_events",
        "archive_entries",
        "archive_subject_keys",
    ):
        op.drop_table(table)
    # The shared seals table keeps other logs' seals; these two logs are gone.
    op.execute(sa.text("DELETE FROM seals WHERE log IN ('archive', 'archive_events')"))
