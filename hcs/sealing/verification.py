"""Recomputing a sealed log: every entry's hash, every seal, the chain between them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_
from sqlalchemy.orm import Session

from hcs.sealing.hashing import merkle_root
from hcs.sealing.models import GENESIS, Seal, SealedMixin, seal_hash
from hcs.sealing.sealer import lock_log


@dataclass(frozen=True)
class Verification:
    """What `verify` found: all entries and seals match, or the first that does not."""

    ok: bool
    checked: int
    seals: int
    # The newest seal's hash: kept somewhere else, it also reveals a log cut short.
    head: str
    first_bad_id: int | None = None
    first_bad_seq: int | None = None
    reason: str = ""


class _Mismatch(Exception):
    def __init__(self, reason: str, entry_id: int | None = None, seq: int | None = None) -> None:
        super().__init__(reason)
        self.entry_id, self.seq = entry_id, seq


@dataclass
class _Walk:
    checked: int = 0
    seals: int = 0
    head: str = GENESIS
    next_seq: int = 1


def verify(session: Session, model: type[SealedMixin]) -> Verification:
    """Recompute every entry's hash and every seal of `model`'s log, in seq order."""
    lock_log(session, model.seal_log)  # a sealer committing midway would look like tampering
    walk = _Walk()
    try:
        for seal in _seals(session, model.seal_log):
            _check_seal(seal, walk)
            _check_sealed_entries(session, model, seal, walk)
        _check_strays(session, model, walk)
        _check_unsealed(session, model, walk)
    except _Mismatch as bad:
        return Verification(
            False, walk.checked, walk.seals, walk.head, bad.entry_id, bad.seq, str(bad)
        )
    return Verification(True, walk.checked, walk.seals, walk.head)


def _seals(session: Session, log: str, page: int = 100) -> Iterator[Seal]:
    after = 0
    while True:
        query = Seal.__table__.select().where(Seal.log == log, Seal.first_seq > after)
        rows = session.execute(query.order_by(Seal.first_seq).limit(page)).mappings().all()
        if not rows:
            return
        yield from (Seal(**row) for row in rows)
        after = rows[-1]["first_seq"]


def _check_seal(seal: Seal, walk: _Walk) -> None:
    label = f"seal {seal.id} (seq {seal.first_seq}-{seal.last_seq})"
    if seal.prev_hash != walk.head:
        raise _Mismatch(f"{label} does not follow the seal before it", seq=seal.first_seq)
    if seal.first_seq != walk.next_seq:
        raise _Mismatch(f"{label} leaves a gap after seq {walk.next_seq - 1}", seq=walk.next_seq)
    leaves = seal.leaf_hashes()
    try:
        root = merkle_root([bytes.fromhex(leaf) for leaf in leaves]).hex()
    except ValueError:
        root = ""
    size = seal.last_seq - seal.first_seq + 1
    if len(leaves) != size or root != seal.root or seal_hash(seal) != seal.hash:
        raise _Mismatch(f"{label} does not match its hash", seq=seal.first_seq)


def _entry_rows(
    session: Session, model: type[SealedMixin], *where: Any, limit: int | None = None
) -> list[Any]:
    table = model.__table__  # type: ignore[attr-defined]
    names = ("id", "seq", "seal_id", "entry_hash", *model.hashed_columns)
    query = table.select().with_only_columns(*(table.c[name] for name in names)).where(*where)
    query = query.order_by(table.c.seq, table.c.id).limit(limit)
    return list(session.execute(query).mappings())


def _check_sealed_entries(
    session: Session, model: type[SealedMixin], seal: Seal, walk: _Walk
) -> None:
    in_seal = model.seq.between(seal.first_seq, seal.last_seq)
    rows = {row["seq"]: row for row in _entry_rows(session, model, in_seal)}
    for seq, leaf in enumerate(seal.leaf_hashes(), start=seal.first_seq):
        row = rows.get(seq)
        if row is None:
            raise _Mismatch(f"entry seq {seq} is missing from seal {seal.id}", seq=seq)
        if model.hash_values(row) != leaf or row["entry_hash"] != leaf or row["seal_id"] != seal.id:
            raise _Mismatch("does not match its seal", row["id"], seq)
        walk.checked += 1
    walk.seals, walk.head, walk.next_seq = walk.seals + 1, seal.hash, seal.last_seq + 1


def _check_strays(session: Session, model: type[SealedMixin], walk: _Walk) -> None:
    seq, seal_id = model.seq, model.seal_id
    outside = or_(seq >= walk.next_seq, seq < 1, and_(seq.is_(None), seal_id.is_not(None)))
    for row in _entry_rows(session, model, outside, limit=1):
        raise _Mismatch("is outside every seal", row["id"], row["seq"])


def _check_unsealed(session: Session, model: type[SealedMixin], walk: _Walk) -> None:
    table = model.__table__  # type: ignore[attr-defined]
    after = 0
    while rows := _entry_rows(session, model, table.c.seq.is_(None), table.c.id > after, limit=999):
        for row in rows:
            if model.hash_values(row) != row["entry_hash"]:
                raise _Mismatch("does not match its hash (not sealed yet)", row["id"])
            walk.checked += 1
        after = rows[-1]["id"]
