"""Tamper evidence for append-only logs: entries hashed as written, sealed later in batches.

Writers insert entries with no lock and no chain: each row carries `entry_hash`, a SHA-256 over a
canonical JSON of its stored columns. A sealer, off the request path, numbers pending entries
(`seq`) in id order and writes one `Seal` per batch whose hash covers the previous seal's hash,
the batch's seq range and the Merkle root (RFC 6962) of its entries' hashes: a chain of batches,
as transparency logs keep. The hash covers stored bytes, so a log that keeps ciphertext still
verifies after its key is erased.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, ClassVar
from uuid import UUID

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, bindparam, event, text
from sqlalchemy import inspect as inspect_state
from sqlalchemy.orm import (
    Mapped,
    ORMExecuteState,
    Session,
    UOWTransaction,
    declared_attr,
    mapped_column,
)

from hcs.exceptions import HcsError
from templates_store.orm import Base, utcnow

GENESIS = "0" * 64
SEAL_FIELDS = ("seq", "seal_id")


class AppendOnlyViolation(HcsError):
    """An attempt to change or delete an entry of a sealed, append-only log."""


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
    seq: Mapped[int | None] = mapped_column(unique=True)
    seal_id: Mapped[int | None] = mapped_column(ForeignKey("seals.id"), index=True)

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


def jsonable(value: Any) -> Any:
    """`value` as plain JSON data: datetimes as UTC ISO strings, enums by value, sorted sets."""
    return json.loads(json.dumps(value, default=_encode, sort_keys=True, allow_nan=False))


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware one")
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "sha256:" + hashlib.sha256(bytes(value)).hexdigest()
    if isinstance(value, (Decimal, UUID)):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON data")


def digest(data: Any) -> str:
    """SHA-256 (hex) of the canonical JSON of `data`."""
    canonical = json.dumps(
        data, default=_encode, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """The RFC 6962 Merkle tree hash of `leaves`."""
    if len(leaves) <= 1:
        return hashlib.sha256(b"\x00" + leaves[0] if leaves else b"").digest()
    split = 1 << ((len(leaves) - 1).bit_length() - 1)
    return hashlib.sha256(
        b"\x01" + merkle_root(leaves[:split]) + merkle_root(leaves[split:])
    ).digest()


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


def _lock(session: Session, log: str) -> None:
    # SQLite transactions begin IMMEDIATE (hcs.db), so sealers there queue already.
    if session.connection().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(f"hcs.seal:{log}".encode()).digest()[:8], signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def head(session: Session, log: str) -> Seal | None:
    """The newest seal of `log`, if any."""
    query = Seal.__table__.select().where(Seal.log == log).order_by(Seal.last_seq.desc())
    row = session.execute(query.limit(1)).mappings().first()
    return Seal(**row) if row else None


def _pending(session: Session, model: type[SealedMixin], limit: int) -> list[tuple[int, str]]:
    table = model.__table__  # type: ignore[attr-defined]
    query = table.select().with_only_columns(table.c.id, table.c.entry_hash)
    rows = session.execute(query.where(table.c.seq.is_(None)).order_by(table.c.id).limit(limit))
    return [(row.id, row.entry_hash) for row in rows]


def _seal_batch(
    session: Session, model: type[SealedMixin], last: Seal | None, batch: list[tuple[int, str]]
) -> Seal:
    first_seq = last.last_seq + 1 if last else 1
    seal = make_seal(
        model.seal_log, first_seq, [h for _, h in batch], last.hash if last else GENESIS
    )
    session.add(seal)
    session.flush()
    table = model.__table__  # type: ignore[attr-defined]
    # Core, not the ORM: the append-only guard refuses ORM updates of sealed models.
    numbering = (
        table.update()
        .where(table.c.id == bindparam("entry_id"), table.c.seq.is_(None))
        .values(seq=bindparam("entry_seq"), seal_id=seal.id)
    )
    params = [{"entry_id": id_, "entry_seq": first_seq + i} for i, (id_, _) in enumerate(batch)]
    result = session.connection().execute(numbering, params)
    if session.connection().dialect.supports_sane_multi_rowcount and result.rowcount != len(batch):
        raise RuntimeError(f"{model.seal_log}: entries were sealed by someone else meanwhile")
    _expire(session, model, {id_ for id_, _ in batch})
    return seal


def _expire(session: Session, model: type[SealedMixin], ids: set[int]) -> None:
    for obj in list(session.identity_map.values()):
        if isinstance(obj, model) and obj.id in ids:  # type: ignore[attr-defined]
            session.expire(obj, list(SEAL_FIELDS))


def seal_pending(session: Session, model: type[SealedMixin], *, batch_size: int = 500) -> int:
    """Seal every pending entry of `model`'s log in batches, oldest first; returns how many."""
    _lock(session, model.seal_log)
    session.expire_all()  # what another sealer committed while we waited is current now
    last = head(session, model.seal_log)
    sealed = 0
    while batch := _pending(session, model, batch_size):
        last = _seal_batch(session, model, last, batch)
        sealed += len(batch)
    return sealed


def _fill_defaults(entry: SealedMixin) -> None:
    table = entry.__table__  # type: ignore[attr-defined]
    for name in entry.hashed_columns:
        default = table.c[name].default
        if getattr(entry, name) is None and default is not None:
            setattr(entry, name, default.arg(None) if default.is_callable else default.arg)


@event.listens_for(SealedMixin, "before_insert", propagate=True)
def _hash_on_insert(mapper: Any, connection: Any, entry: SealedMixin) -> None:
    _fill_defaults(entry)
    entry.entry_hash = entry.compute_hash()


def check_unchanged(entry: SealedMixin) -> None:
    """Refuse any change to an entry except numbering it into a seal, once."""
    state = inspect_state(entry)
    for attr in state.mapper.column_attrs:
        history = state.attrs[attr.key].history
        if not history.has_changes():
            continue
        if attr.key in SEAL_FIELDS and list(history.deleted) == [None]:
            continue
        raise AppendOnlyViolation(
            f"{entry.seal_log} entries are append-only: {attr.key} cannot change"
        )


@event.listens_for(Session, "before_flush")
def _guard_flush(session: Session, flush_context: UOWTransaction, instances: Any) -> None:
    for obj in session.dirty:
        if isinstance(obj, SealedMixin):
            check_unchanged(obj)
    for obj in session.deleted:
        if isinstance(obj, SealedMixin):
            raise AppendOnlyViolation(f"{obj.seal_log} entries are append-only: never deleted")


@event.listens_for(Session, "do_orm_execute")
def _guard_statements(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete) or state.bind_mapper is None:
        return
    model = state.bind_mapper.class_
    if issubclass(model, SealedMixin):
        raise AppendOnlyViolation(f"{model.seal_log} entries are append-only: no bulk changes")
