"""Each sealed entry's hash signed on its own, so a rewrite is pinned to one entry.

A checkpoint signs a tree head: against a log rewritten and resealed, it proves that something
changed between two signed heads, not which entry. So when the sealer signs a head it also
signs every leaf the head adds (Ed25519 over the log, the seq and the entry's hash), kept in
`leaf_signatures`. Checking a log that fails its checkpoint then names the first entry whose
recomputed hash no signature vouches for. Someone with only the database cannot sign; deleting
signatures only makes the answer the range again.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Index, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from hcs.sealing.notes import Signer, Verifier
from templates_store.orm import Base, utcnow

SIGNATURE_BYTES = 64
# Leaves signed with one checkpoint at most (about 3 s here): a log sealed before leaves were
# signed catches up over the next checkpoints instead of in one long transaction.
MAX_PER_CHECKPOINT = 20_000


class LeafSignature(Base):
    """The signatures of a run of leaves of one log, from `first_seq`, as the sealer made them."""

    __tablename__ = "leaf_signatures"
    __table_args__ = (Index("ix_leaf_signatures_log_first_seq", "log", "first_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    log: Mapped[str] = mapped_column(String(50))
    first_seq: Mapped[int]
    # Base64 of the 64-byte signatures, one per leaf, concatenated in seq order.
    signatures: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)

    def count(self) -> int:
        """How many leaves this run signs."""
        return len(base64.b64decode(self.signatures)) // SIGNATURE_BYTES


def leaf_message(log: str, seq: int, leaf: bytes) -> bytes:
    """What is signed for one leaf: the log, its seq and the entry's hash."""
    return f"hcs leaf\n{log}\n{seq}\n{leaf.hex()}\n".encode()


def _signed_up_to(session: Session, log: str) -> int:
    runs = session.scalars(
        select(LeafSignature).where(
            LeafSignature.log == log,
            LeafSignature.first_seq
            == select(func.max(LeafSignature.first_seq))
            .where(LeafSignature.log == log)
            .scalar_subquery(),
        )
    ).all()
    return max((run.first_seq + run.count() - 1 for run in runs), default=0)


def sign_new_leaves(
    session: Session, log: str, leaves: Sequence[bytes], signer: Signer, *, limit: int = 0
) -> int:
    """Sign the leaves past those signed already (seq from 1), oldest first; how many."""
    done = _signed_up_to(session, log)
    fresh = leaves[done : done + (limit or MAX_PER_CHECKPOINT)]
    if not fresh:
        return 0
    raw = b"".join(
        signer.private.sign(leaf_message(log, seq, leaf))
        for seq, leaf in enumerate(fresh, start=done + 1)
    )
    run = LeafSignature(log=log, first_seq=done + 1, signatures=base64.b64encode(raw).decode())
    session.add(run)
    session.flush()
    return len(fresh)


def _signatures(session: Session, log: str, first: int, last: int) -> dict[int, list[bytes]]:
    """Every signature stored for the seqs first..last (a forged run may add more)."""
    query = select(LeafSignature).where(LeafSignature.log == log, LeafSignature.first_seq <= last)
    found: dict[int, list[bytes]] = {}
    for run in session.scalars(query):
        try:
            raw = base64.b64decode(run.signatures, validate=True)
        except ValueError:
            continue
        for i in range(len(raw) // SIGNATURE_BYTES):
            seq = run.first_seq + i
            if first <= seq <= last:
                found.setdefault(seq, []).append(raw[i * 64 : (i + 1) * 64])
    return found


def _vouched(key: Ed25519PublicKey, signatures: list[bytes], message: bytes) -> bool:
    for signature in signatures:
        try:
            key.verify(signature, message)
        except InvalidSignature:
            continue
        return True
    return False


def first_unsigned(
    session: Session, log: str, rows: Sequence[tuple[int, int, bytes]], verifier: Verifier
) -> int | None:
    """The index in `rows` ((seq, id, recomputed hash)) of the first leaf no signature vouches
    for, among leaves that were signed; None when every signed one checks out."""
    if not rows:
        return None
    signatures = _signatures(session, log, rows[0][0], rows[-1][0])
    key = Ed25519PublicKey.from_public_bytes(verifier.public)
    for index, (seq, _, leaf) in enumerate(rows):
        stored = signatures.get(seq)
        if stored is not None and not _vouched(key, stored, leaf_message(log, seq, leaf)):
            return index
    return None
