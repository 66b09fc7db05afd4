"""Which entry of a sealed log was rewritten, when the seals no longer say (see `leaves`).

The signed heads kept in the database (those whose signature checks out) narrow the search to
the stretch after the last one the log still matches; the leaf signatures in it name the entry.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from hcs.errors import NoteError
from hcs.sealing import merkle
from hcs.sealing.checkpoints import Checkpoint, Head, read_checkpoint, recomputed_leaves
from hcs.sealing.leaves import first_unsigned
from hcs.sealing.models import SealedMixin
from hcs.sealing.notes import Verifier


def first_rewritten(
    session: Session, model: type[SealedMixin], verifier: Verifier
) -> tuple[int, int] | None:
    """(id, seq) of the first sealed entry its leaf signature does not vouch for, if any.

    For a log whose seals no longer check out: the signatures say which entry changed. Only the
    stretch after the last signed head the log still matches is checked (signatures are slow).
    """
    rows = recomputed_leaves(session, model)
    hashed = [merkle.leaf_hash(leaf) for _, _, leaf in rows]
    start, end = _stretch(session, model.seal_log, hashed, verifier)
    index = first_unsigned(session, model.seal_log, rows[start:end], verifier)
    return None if index is None else (rows[start + index][1], rows[start + index][0])


def _stretch(
    session: Session, log: str, hashed: Sequence[bytes], verifier: Verifier
) -> tuple[int, int]:
    """Between the last signed head `hashed` still matches and the first it does not."""
    query = select(Checkpoint.note).where(Checkpoint.log == log).order_by(Checkpoint.size)
    notes: list[str] = list(session.scalars(query))
    lo, hi = 0, len(notes)
    heads: dict[str, Head] = {}
    while lo < hi:  # a binary search: each step checks one signature, forged notes dropped
        mid = (lo + hi) // 2
        try:
            head = heads[notes[mid]] = read_checkpoint(notes[mid], verifier).head
        except NoteError:
            del notes[mid]
            hi -= 1
            continue
        matches = head.size <= len(hashed) and merkle.tree_hash(hashed[: head.size]) == head.root
        lo, hi = (mid + 1, hi) if matches else (lo, mid)
    start = heads[notes[lo - 1]].size if lo else 0
    return start, heads[notes[lo]].size if lo < len(notes) else len(hashed)
