"""Archive tables: sealed entries and events, and the mutable keys, payloads and holds beside them.

Entries and events are append-only and sealed (`hcs.sealing`). What erasure and retention must be
able to destroy lives in mutable tables: the subjects' wrapped keys, and each entry's payload
(its wrapped key and ciphertexts). The entry keeps the payload's digest, so the seal still covers
every stored byte, and a payload deleted on purpose leaves a row that verifies.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hcs.sealing import SealedMixin, digest
from templates_store.orm import Base, utcnow

# The payload columns an entry's payload digest covers.
STORED = ("wrapped_key", "output", "recipient", "data", "ai")
# The event kind retention appends when it deletes an entry's payload.
PURGED = "purged"


class SubjectKey(Base):
    """One data subject's key, wrapped under the master key; erased by dropping the wrapped key."""

    __tablename__ = "archive_subject_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    lookup: Mapped[str] = mapped_column(String(64), index=True)
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    master_id: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    erased_at: Mapped[datetime | None]
    erased_by: Mapped[str | None] = mapped_column(String(300))

    @property
    def is_erased(self) -> bool:
        """Whether this key has been destroyed."""
        return self.wrapped_key is None


class LookupKey(Base):
    """The key of recipient lookups, wrapped under the master key; one row, re-wrapped on rotation.

    Entries seal their recipient's lookup, so this key outlives every master key: an archive
    that has stored none derives it from the master key of its first subject key.
    """

    __tablename__ = "archive_lookup_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    master_id: Mapped[str] = mapped_column(String(16))
    wrapped_at: Mapped[datetime] = mapped_column(default=utcnow)


class ArchiveEntry(SealedMixin, Base):
    """One output exactly as sent: what it was made from in clear, personal data encrypted."""

    __tablename__ = "archive_entries"
    seal_log: ClassVar[str] = "archive"
    hashed_columns: ClassVar[tuple[str, ...]] = (
        "message_id",
        "template",
        "version",
        "closure_hash",
        "channel",
        "locale",
        "category",
        "recipient_lookup",
        "subject_key_id",
        "data_digest",
        "payload_digest",
        "content_type",
        "output_size",
        "provider",
        "provider_message_id",
        "has_ai",
        "sent_at",
        "archived_at",
        "retain_until",
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    template: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[int]
    closure_hash: Mapped[str] = mapped_column(String(80))
    channel: Mapped[str] = mapped_column(String(10), index=True)
    locale: Mapped[str] = mapped_column(String(35))
    category: Mapped[str] = mapped_column(String(20), index=True)
    recipient_lookup: Mapped[str] = mapped_column(String(64), index=True)
    subject_key_id: Mapped[int] = mapped_column(ForeignKey("archive_subject_keys.id"), index=True)
    # "sha256:<hex>" of the data's canonical JSON: a holder of the data can prove it.
    data_digest: Mapped[str] = mapped_column(String(71))
    # SHA-256 over the payload row's stored bytes (see crypto.digest_bytes).
    payload_digest: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(100))
    output_size: Mapped[int]
    provider: Mapped[str] = mapped_column(String(50))
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    has_ai: Mapped[bool]
    sent_at: Mapped[datetime] = mapped_column(index=True)
    archived_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Fixed when archived, from the retention policy in force then, and sealed with the entry:
    # a later, shorter policy cannot reach it. None only for entries archived before (0016).
    retain_until: Mapped[datetime | None] = mapped_column(index=True)

    @classmethod
    def hash_values(cls, values: Mapping[str, Any]) -> str:
        """The entry hash; entries from before fixed retention hash without `retain_until`."""
        stored = {name: values[name] for name in cls.hashed_columns}
        if stored["retain_until"] is None:
            del stored["retain_until"]
        return digest({"log": cls.seal_log, "values": stored})

    def __repr__(self) -> str:
        return f"<ArchiveEntry {self.id} {self.template} v{self.version} {self.channel}>"


class ArchivePayload(Base):
    """An entry's encrypted personal data and output; deleted when its retention ends."""

    __tablename__ = "archive_payloads"

    entry_id: Mapped[int] = mapped_column(ForeignKey("archive_entries.id"), primary_key=True)
    # The entry's key, wrapped under the subject's key.
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    output: Mapped[bytes] = mapped_column(LargeBinary)
    recipient: Mapped[bytes] = mapped_column(LargeBinary)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    ai: Mapped[bytes | None] = mapped_column(LargeBinary)

    def stored(self) -> dict[str, bytes | None]:
        """The stored bytes the entry's payload digest covers."""
        return {name: getattr(self, name) for name in STORED}


class ArchiveEvent(SealedMixin, Base):
    """A delivery event after the entry (delivered, bounced, opened, ...); detail encrypted."""

    __tablename__ = "archive_events"
    seal_log: ClassVar[str] = "archive_events"
    hashed_columns: ClassVar[tuple[str, ...]] = (
        "archive_entry_id",
        "kind",
        "at",
        "provider",
        "detail",
        "recorded_at",
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Not `entry_id`: the sealer's numbering statement reserves that name for a parameter.
    archive_entry_id: Mapped[int] = mapped_column(ForeignKey("archive_entries.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime]
    provider: Mapped[str] = mapped_column(String(50))
    # Encrypted under the entry's key; None when that key was already destroyed.
    detail: Mapped[bytes | None] = mapped_column(LargeBinary)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class RetentionRule(Base):
    """How long one category's entries are kept: an admin's setting, audited when changed."""

    __tablename__ = "archive_retention"

    category: Mapped[str] = mapped_column(String(20), primary_key=True)
    days: Mapped[int]
    set_by: Mapped[str] = mapped_column(String(300))
    set_at: Mapped[datetime] = mapped_column(default=utcnow)


class ErasureRequest(Base):
    """A data subject's erasure: carried out at once, or deferred while a legal hold lasts."""

    __tablename__ = "archive_erasures"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The subject's keyed hash, never the address.
    lookup: Mapped[str] = mapped_column(String(64), index=True)
    state: Mapped[str] = mapped_column(String(10))  # "deferred", then "done"
    requested_by: Mapped[str] = mapped_column(String(300))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]
    entries: Mapped[int | None]
    # While deferred: the address, encrypted under the archive's lookup key, so that the copies
    # outside the archive can be erased on release. Dropped when the erasure is carried out.
    recipient: Mapped[bytes | None] = mapped_column(LargeBinary)


class LegalHold(Base):
    """Entries exempt from retention: one entry, or every entry of one recipient."""

    __tablename__ = "archive_holds"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("archive_entries.id"), index=True)
    recipient_lookup: Mapped[str | None] = mapped_column(String(64), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    placed_by: Mapped[str] = mapped_column(String(300))
    placed_at: Mapped[datetime] = mapped_column(default=utcnow)
    released_by: Mapped[str | None] = mapped_column(String(300))
    released_at: Mapped[datetime | None]
