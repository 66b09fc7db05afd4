"""Sealing and verifying the archive: entries, their events, and the payload digests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hcs.archive.crypto import digest_bytes
from hcs.archive.models import PURGED, STORED, ArchiveEntry, ArchiveEvent, ArchivePayload
from hcs.archive.retention import earliest_purge
from hcs.sealing import Seal, SealedMixin, seal_hash, seal_pending, verify
from templates_store.orm import utcnow


@dataclass(frozen=True)
class ArchiveVerification:
    """What `verify_archive` found: counts, or the first entry (or seal) that does not match."""

    ok: bool
    entries: int
    events: int
    payloads: int
    seals: int
    first_bad_entry: int | None = None
    reason: str = ""


# The archive's checkpoint signs the entries' tree, and the delivery events' tree along.
SIGNED_LOGS: tuple[type[SealedMixin], ...] = (ArchiveEntry, ArchiveEvent)


def seal_archive(session: Session, *, batch_size: int = 500) -> int:
    """Seal every pending entry and event; returns how many rows were sealed."""
    return seal_pending(session, ArchiveEntry, batch_size=batch_size) + seal_pending(
        session, ArchiveEvent, batch_size=batch_size
    )


def verify_archive(session: Session) -> ArchiveVerification:
    """Recompute the entries' and events' chains and every payload against its entry's digest."""
    entries = verify(session, ArchiveEntry)
    if not entries.ok:
        return ArchiveVerification(
            False, entries.checked, 0, 0, entries.seals, entries.first_bad_id, entries.reason
        )
    events = verify(session, ArchiveEvent)
    if not events.ok:
        event = session.get(ArchiveEvent, events.first_bad_id) if events.first_bad_id else None
        reason = f"has an event that {events.reason}" if event else f"events: {events.reason}"
        entry_id = event.archive_entry_id if event else None
        return ArchiveVerification(False, entries.checked, events.checked, 0, 0, entry_id, reason)
    payloads, bad = _check_payloads(session)
    seals = entries.seals + events.seals
    reason = "does not match its payload digest"
    if bad is None:
        bad, reason = _lost_payload(session, utcnow())
    if bad is not None:
        return ArchiveVerification(
            False, entries.checked, events.checked, payloads, seals, bad, reason
        )
    return ArchiveVerification(True, entries.checked, events.checked, payloads, seals)


def _lost_payload(session: Session, now: datetime) -> tuple[int | None, str]:
    """The first entry whose payload is gone though no purge after its date says so.

    A purge event is hashed when written and sealed by the next sealer (`hcs archive verify`
    seals first); one dated before the entry's sealed `retain_until`, or in the future, is forged.
    """
    query = (
        select(ArchiveEntry)
        .outerjoin(ArchivePayload, ArchivePayload.entry_id == ArchiveEntry.id)
        .where(ArchivePayload.entry_id.is_(None))
        .order_by(ArchiveEntry.id)
    )
    for entry in session.scalars(query):
        purges = session.scalars(
            select(ArchiveEvent.at).where(
                ArchiveEvent.archive_entry_id == entry.id,
                ArchiveEvent.kind == PURGED,
            )
        ).all()
        if not purges:
            return entry.id, "has no payload and no purge recorded"
        due = earliest_purge(entry)
        if not any(due <= at <= now for at in purges):
            return entry.id, f"has no payload, and no purge dated between {due:%Y-%m-%d} and now"
    return None, ""


def _check_payloads(session: Session, page: int = 200) -> tuple[int, int | None]:
    table = ArchivePayload.__table__
    query = select(table, ArchiveEntry.payload_digest).join(
        ArchiveEntry, ArchiveEntry.id == table.c.entry_id
    )
    checked, after = 0, 0
    while (
        rows := session.execute(
            query.where(table.c.entry_id > after).order_by(table.c.entry_id).limit(page)
        )
        .mappings()
        .all()
    ):
        for row in rows:
            stored = {name: row[name] for name in STORED}
            if digest_bytes(stored) != row["payload_digest"]:
                return checked, row["entry_id"]
            checked += 1
        after = rows[-1]["entry_id"]
    return checked, None


def _row_is_sealed_intact(session: Session, row: SealedMixin) -> bool:
    if row.compute_hash() != row.entry_hash:
        return False
    if row.seq is None:
        return row.seal_id is None
    seal = session.get(Seal, row.seal_id)
    if seal is None or seal_hash(seal) != seal.hash or seal.log != row.seal_log:
        return False
    leaves = seal.leaf_hashes()
    index = row.seq - seal.first_seq
    return 0 <= index < len(leaves) and leaves[index] == row.entry_hash


def is_intact(session: Session, entry: ArchiveEntry) -> bool:
    """One entry's own check: its hash, its seal's leaf and hash, its payload, its events."""
    if not _row_is_sealed_intact(session, entry):
        return False
    query = select(ArchiveEvent).where(ArchiveEvent.archive_entry_id == entry.id)
    events = list(session.scalars(query))
    if not all(_row_is_sealed_intact(session, event) for event in events):
        return False
    payload = session.get(ArchivePayload, entry.id)
    if payload is None:
        due, now = earliest_purge(entry), utcnow()
        return any(e.kind == PURGED and due <= e.at <= now for e in events)
    return digest_bytes(payload.stored()) == entry.payload_digest
