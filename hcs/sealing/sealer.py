"""Sealing pending entries in batches, one sealer per log at a time.

Lock order, for every transaction that touches a sealed log's entries or the seals:

1. the log's advisory lock (`lock_log`): sealers and verifiers only, one at a time per log;
2. rows of other tables a writer updates (a message, ...), each writer in ascending id order;
3. entries, ascending id. A writer only ever takes the weak FOR KEY SHARE lock on an entry (the
   foreign-key check of a row that points at it, e.g. a delivery event); the sealer claims
   pending entries FOR UPDATE SKIP LOCKED, in id order, and never waits for one;
4. the seals table, written by the sealer alone under (1).

The sealer must take FOR UPDATE, not a weaker lock: numbering writes `seq`, a unique key, which
PostgreSQL treats as a key update. Waiting for such a lock while a webhook, holding the key-share
lock on a later entry, waited for an earlier one the sealer had numbered was the deadlock of
issue 21. Skipping a locked entry only postpones it to the next round (its `seq` then comes after
entries with higher ids); nothing writers do waits on the sealer except for its commit.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import bindparam, select, text
from sqlalchemy.orm import Session

from hcs.sealing.models import GENESIS, SEAL_FIELDS, Seal, SealedMixin, make_seal


def lock_log(session: Session, log: str) -> None:
    """Wait until no other transaction seals or verifies `log`, then hold it until commit."""
    # SQLite transactions begin IMMEDIATE (hcs.infrastructure.db), so sealers there queue
    # already. PostgreSQL (read committed) sees what the sealer before us committed from the next
    # statement on.
    if session.connection().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(f"hcs.seal:{log}".encode()).digest()[:8], signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def head(session: Session, log: str) -> Seal | None:
    """The newest seal of `log`, if any."""
    query = select(Seal).where(Seal.log == log).order_by(Seal.last_seq.desc()).limit(1)
    return session.scalars(query).first()


def _pending(session: Session, model: type[SealedMixin], limit: int) -> list[tuple[int, str]]:
    table = model.__table__  # type: ignore[attr-defined]
    query = table.select().with_only_columns(table.c.id, table.c.entry_hash)
    query = query.where(table.c.seq.is_(None)).order_by(table.c.id).limit(limit)
    # PostgreSQL: claim what no writer holds now, never wait (see the lock order above). SQLite
    # renders no FOR UPDATE; its transactions hold the database's one write lock already.
    rows = session.execute(query.with_for_update(skip_locked=True))
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
    for id_ in ids:
        obj = session.identity_map.get(session.identity_key(model, id_))
        if obj is not None:
            session.expire(obj, list(SEAL_FIELDS))


def seal_pending(session: Session, model: type[SealedMixin], *, batch_size: int = 500) -> int:
    """Seal every pending entry of `model`'s log in batches, oldest first; returns how many."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    lock_log(session, model.seal_log)
    session.flush()  # entries added in this session are pending too
    last = head(session, model.seal_log)
    sealed = 0
    while batch := _pending(session, model, batch_size):
        last = _seal_batch(session, model, last, batch)
        sealed += len(batch)
    return sealed
