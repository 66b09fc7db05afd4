"""The seals table every sealed log shares, and the mixin a sealed model derives from."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from hcs.sealing.hashing import digest, merkle_root
from templates_store.orm import Base, utcnow

GENESIS = "0" * 64
SEAL_FIELDS = ("seq", "seal_id")


class Seal(Base):
    """One sealed batch of a log: its seq range, entries' hashes and the chained seal hash."""

    __tablename__ = "seals"
    __table_args__ = (
        # Two sealers can never fork the chain nor seal the same entries twice.
        UniqueConstraint("log", "first_seq", name="uq_seals_log_first_seq"),
        UniqueConstraint("log", "prev_hash", name="uq_seals_log_prev_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    log: Mapped[str] = mapped_column(String(50))
    first_seq: Mapped[int]
    last_seq: Mapped[int]
    # The entries' hashes in seq order (hex, concatenated): lets verify name the changed entry.
    leaves: Mapped[str] = mapped_column(Text)
    root: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    sealed_at: Mapped[datetime] = mapped_column(default=utcnow)

    def leaf_hashes(self) -> list[str]:
        """The sealed entries' hashes, in seq order."""
        return [self.leaves[i : i + 64] for i in range(0, len(self.leaves), 64)]


class SealedMixin:
    """Columns and hashing for an append-only model whose rows are sealed into a chain."""

    # The log's name in `seals.log`, and the stored columns its entry hash covers.
    seal_log: ClassVar[str]
    hashed_columns: ClassVar[tuple[str, ...]]

    entry_hash: Mapped[str] = mapped_column(String(64))
    # active_history: the guard must know the old value to allow numbering only once.
    seq: Mapped[int | None] = mapped_column(unique=True, active_history=True)
    seal_id: Mapped[int | None] = mapped_column(
        ForeignKey("seals.id"), index=True, active_history=True
    )

    @declared_attr.directive
    @classmethod
    def __table_args__(cls) -> tuple[Any, ...]:
        name = cls.__tablename__  # type: ignore[attr-defined]
        unsealed = text("seq IS NULL")
        # The sealer's queue: pending entries by id, without scanning sealed ones.
        return (
            Index(f"ix_{name}_unsealed", "id", sqlite_where=unsealed, postgresql_where=unsealed),
        )

    @classmethod
    def hash_values(cls, values: Mapping[str, Any]) -> str:
        """The entry hash of a row whose hashed columns hold `values`."""
        stored = {name: values[name] for name in cls.hashed_columns}
        return digest({"log": cls.seal_log, "values": stored})

    def compute_hash(self) -> str:
        """The entry hash of this row as it stands."""
        return self.hash_values({name: getattr(self, name) for name in self.hashed_columns})


def seal_hash(seal: Seal) -> str:
    """The hash a seal must carry, from its own fields and its predecessor's hash."""
    return digest(
        {
            "log": seal.log,
            "first_seq": seal.first_seq,
            "last_seq": seal.last_seq,
            "root": seal.root,
            "prev_hash": seal.prev_hash,
            "sealed_at": seal.sealed_at,
        }
    )


def make_seal(log: str, first_seq: int, hashes: Sequence[str], prev_hash: str) -> Seal:
    """A seal over `hashes`, numbered from `first_seq`, chained after `prev_hash`."""
    root = merkle_root([bytes.fromhex(h) for h in hashes]).hex()
    seal = Seal(
        log=log,
        first_seq=first_seq,
        last_seq=first_seq + len(hashes) - 1,
        leaves="".join(hashes),
        root=root,
        prev_hash=prev_hash,
        sealed_at=utcnow(),
    )
    seal.hash = seal_hash(seal)
    return seal
