"""Signed checkpoints of sealed logs, and proving a log against one.

After sealing, the sealer signs the head of each log: the RFC 9162 tree over every sealed
entry's hash, in seq order (see `hcs.sealing.merkle`), as a C2SP checkpoint (`notes`). A log
that signs along a second log (the archive and its delivery events) names it in an extension
line: `<log> <size> <root>`. Each checkpoint is kept (table `checkpoints`) and, when configured,
sent to a witness outside the database (`hcs.sealing.witness`).

Checking a log against a checkpoint someone kept recomputes every sealed entry's hash from its
stored columns and asks for the RFC 9162 consistency proof from the checkpoint's size to now: a
log cut short, an entry deleted, moved or rewritten (hashes and seals recomputed or not) fails.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Index, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from hcs.errors import NoteError
from hcs.sealing import merkle
from hcs.sealing.leaves import first_unsigned, sign_new_leaves
from hcs.sealing.models import Seal, SealedMixin
from hcs.sealing.notes import Signer, Verifier
from templates_store.orm import Base, utcnow


class Checkpoint(Base):
    """One signed head of a log, as the sealer signed it."""

    __tablename__ = "checkpoints"
    __table_args__ = (Index("ix_checkpoints_log_size", "log", "size"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    log: Mapped[str] = mapped_column(String(50))
    size: Mapped[int]
    root: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)


@dataclass(frozen=True)
class Head:
    """A tree head: how many sealed entries, and their root."""

    log: str
    size: int
    root: bytes

    def line(self) -> str:
        """`<log> <size> <root base64>`: an extension line."""
        return f"{self.log} {self.size} {base64.b64encode(self.root).decode()}"


@dataclass(frozen=True)
class Parsed:
    """A checkpoint's text, read back: origin, the main head, the heads it signs along."""

    origin: str
    head: Head
    time: str
    along: dict[str, Head] = field(default_factory=dict)


def sealed_leaves(session: Session, model: type[SealedMixin]) -> list[bytes]:
    """The sealed entries' hashes in seq order, as the seals recorded them (for signing)."""
    query = select(Seal.leaves).where(Seal.log == model.seal_log).order_by(Seal.first_seq)
    text = "".join(session.scalars(query))
    return [bytes.fromhex(text[i : i + 64]) for i in range(0, len(text), 64)]


def recomputed_leaves(session: Session, model: type[SealedMixin]) -> list[tuple[int, int, bytes]]:
    """(seq, id, hash) of every sealed entry, the hash recomputed from its stored columns."""
    table = model.__table__  # type: ignore[attr-defined]
    columns = [table.c.id, table.c.seq, *(table.c[name] for name in model.hashed_columns)]
    query = select(*columns).where(table.c.seq.is_not(None)).order_by(table.c.seq)
    rows = session.execute(query).mappings()
    return [(row["seq"], row["id"], bytes.fromhex(model.hash_values(dict(row)))) for row in rows]


def head_of(log: str, leaves: Sequence[bytes]) -> Head:
    """The RFC 9162 head of `leaves`."""
    return Head(log, len(leaves), merkle.tree_hash([merkle.leaf_hash(x) for x in leaves]))


def checkpoint_text(origin: str, head: Head, along: Sequence[Head], at: datetime) -> str:
    """The C2SP checkpoint body: origin, size, root, then the time and heads signed along."""
    root = base64.b64encode(head.root).decode()
    lines = [origin, str(head.size), root, f"time {at.isoformat()}", *(h.line() for h in along)]
    return "\n".join(lines) + "\n"


def sign_heads(
    session: Session, models: Sequence[type[SealedMixin]], signer: Signer, origin: str
) -> Checkpoint | None:
    """Sign the current head of the first model's log (the others along); None if unchanged.

    Each leaf the heads add is signed on its own as well (`hcs.sealing.leaves`).
    """
    leaves = {m.seal_log: sealed_leaves(session, m) for m in models}
    heads = [head_of(log, logged) for log, logged in leaves.items()]
    latest = latest_checkpoint(session, heads[0].log)
    if latest is not None and _heads_in(latest.note) == [h.line() for h in heads]:
        return None
    for log, logged in leaves.items():
        sign_new_leaves(session, log, logged, signer)
    now = utcnow()
    note = signer.sign(checkpoint_text(origin, heads[0], heads[1:], now))
    checkpoint = Checkpoint(
        log=heads[0].log, size=heads[0].size, root=heads[0].root.hex(), note=note, signed_at=now
    )
    session.add(checkpoint)
    session.flush()
    return checkpoint


def _heads_in(note: str) -> list[str]:
    parsed = parse(note.partition("\n\n")[0] + "\n")
    return [h.line() for h in (parsed.head, *parsed.along.values())]


def latest_checkpoint(session: Session, log: str) -> Checkpoint | None:
    """The newest checkpoint signed for `log`."""
    query = select(Checkpoint).where(Checkpoint.log == log).order_by(Checkpoint.id.desc())
    return session.scalars(query.limit(1)).first()


def parse(text: str) -> Parsed:
    """A checkpoint's text (already verified); NoteError when it is not one of ours."""
    lines = text.rstrip("\n").split("\n")
    try:
        origin, size, root, time_line, *rest = lines
        log = origin.rsplit("/", 1)[-1]
        head = Head(log, int(size), base64.b64decode(root, validate=True))
        along = [_along(line) for line in rest]
    except ValueError as exc:
        raise NoteError("not an HCS checkpoint (origin, size, root, time, heads)") from exc
    return Parsed(origin, head, time_line.removeprefix("time "), {h.log: h for h in along})


def _along(line: str) -> Head:
    log, size, root = line.split(" ")
    return Head(log, int(size), base64.b64decode(root, validate=True))


def read_checkpoint(note: str, verifier: Verifier) -> Parsed:
    """The checkpoint a note carries, once `verifier`'s signature on it checks out."""
    return parse(verifier.open(note))


@dataclass(frozen=True)
class Consistency:
    """The log against a checkpoint's head: consistent, or the first entry that is not."""

    ok: bool
    log: str
    old_size: int
    size: int
    first_bad_id: int | None = None
    first_bad_seq: int | None = None
    reason: str = ""


def check_consistency(
    session: Session, model: type[SealedMixin], head: Head, verifier: Verifier
) -> Consistency:
    """Prove the log now extends `head` (RFC 9162 consistency proof), else name where not."""
    rows = recomputed_leaves(session, model)
    current = head_of(model.seal_log, [leaf for _, _, leaf in rows])
    log, sizes = model.seal_log, (head.size, current.size)
    if current.size < head.size:
        seq = _first_missing_seq(rows, head.size)
        reason = f"entry seq {seq} is missing (the checkpoint covers {head.size})"
        return Consistency(False, log, *sizes, None, seq, reason)
    if head.size and not _proven(head, current, rows):
        lo, hi = _bracket(session, model, head, rows, verifier)
        exact = first_unsigned(session, log, rows[lo:hi], verifier)
        if exact is not None:
            seq, entry_id = rows[lo + exact][0], rows[lo + exact][1]
            reason = f"differs from the checkpoint: seq {seq} is not the entry that was signed"
            return Consistency(False, log, *sizes, entry_id, seq, reason)
        seq, entry_id = rows[lo][0], rows[lo][1]
        where = f"seq {seq}" if hi - lo == 1 else f"seq {seq}-{rows[hi - 1][0]}"
        reason = f"differs from the checkpoint (the first change is within {where})"
        return Consistency(False, log, *sizes, entry_id, seq, reason)
    return Consistency(True, log, *sizes)


def _first_missing_seq(rows: Sequence[tuple[int, int, bytes]], size: int) -> int:
    for expected, (seq, _, _) in enumerate(rows, start=1):
        if seq != expected:
            return expected
    return len(rows) + 1 if len(rows) < size else size


def _proven(head: Head, current: Head, rows: Sequence[tuple[int, int, bytes]]) -> bool:
    hashed = [merkle.leaf_hash(leaf) for _, _, leaf in rows]
    proof = merkle.consistency_proof(head.size, hashed)
    return merkle.verify_consistency(head.size, head.root, current.size, current.root, proof)


def _bracket(
    session: Session,
    model: type[SealedMixin],
    head: Head,
    rows: Sequence[tuple[int, int, bytes]],
    verifier: Verifier,
) -> tuple[int, int]:
    """The smallest range of leaves known to hold the first change: between two signed heads."""
    hashed = [merkle.leaf_hash(leaf) for _, _, leaf in rows]
    lo = 0
    signed = _signed_heads(session, model.seal_log, head.size, verifier)
    for size, root in [*signed, (head.size, head.root)]:
        if merkle.tree_hash(hashed[:size]) != root:
            return lo, size
        lo = size
    return lo, head.size  # not reached: the checkpoint's own head failed already


def _signed_heads(
    session: Session, log: str, up_to: int, verifier: Verifier
) -> list[tuple[int, bytes]]:
    """Heads the database keeps whose signature still verifies (forged ones are ignored)."""
    query = select(Checkpoint.note).where(Checkpoint.log == log, Checkpoint.size < up_to)
    heads = []
    for note in session.scalars(query.order_by(Checkpoint.size)):
        try:
            heads.append(read_checkpoint(note, verifier).head)
        except NoteError:
            continue
    return [(h.size, h.root) for h in heads]


@dataclass(frozen=True)
class Inclusion:
    """An RFC 9162 inclusion proof of one entry in a signed checkpoint's tree."""

    entry_id: int
    index: int
    leaf: str
    proof: list[str]
    checkpoint: str

    def as_json(self) -> dict[str, object]:
        """The proof as auditors read it: hex hashes, the signed checkpoint note."""
        return {
            "entry_id": self.entry_id,
            "leaf_index": self.index,
            "entry_hash": self.leaf,
            "inclusion_proof": self.proof,
            "checkpoint": self.checkpoint,
        }


def prove_inclusion(session: Session, model: type[SealedMixin], entry_id: int) -> Inclusion:
    """Prove one sealed entry is in the newest checkpoint's tree; NoteError when it cannot be."""
    latest = latest_checkpoint(session, model.seal_log)
    entry = session.get(model, entry_id)
    if entry is None:
        raise NoteError(f"{model.seal_log} entry {entry_id} does not exist")
    if latest is None or entry.seq is None or entry.seq > latest.size:
        raise NoteError(f"{model.seal_log} entry {entry_id} is in no signed checkpoint yet")
    leaves = sealed_leaves(session, model)[: latest.size]
    hashed = [merkle.leaf_hash(leaf) for leaf in leaves]
    path = merkle.inclusion_proof(entry.seq - 1, hashed)
    return Inclusion(
        entry_id, entry.seq - 1, entry.entry_hash, [p.hex() for p in path], latest.note
    )


def check_checkpoint(
    session: Session, models: Sequence[type[SealedMixin]], note: str, verifier: Verifier
) -> list[Consistency]:
    """Check each log a signed checkpoint covers (the first model's, and those signed along)."""
    parsed = read_checkpoint(note, verifier)
    if parsed.head.log != models[0].seal_log:
        raise NoteError(
            f"this is a checkpoint of the {parsed.head.log} log, not {models[0].seal_log}"
        )
    heads = [parsed.head, *(parsed.along.get(model.seal_log) for model in models[1:])]
    return [
        check_consistency(session, model, head, verifier)
        for model, head in zip(models, heads, strict=True)
        if head is not None
    ]
