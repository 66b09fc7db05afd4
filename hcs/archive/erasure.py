"""Erasure of a data subject: destroy their keys, or record the request while a hold lasts.

Every request is kept (`ErasureRequest`, by the subject's keyed hash). Under legal hold it is
deferred, not refused, and carried out by the release that frees the subject's last held entry.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hcs import audit
from hcs.archive import crypto
from hcs.archive.crypto import Keyring, default_keyring
from hcs.archive.errors import ArchiveKeyError, OnLegalHold
from hcs.archive.holds import held_entries
from hcs.archive.keys import live_subject_keys
from hcs.archive.lookups import archive_keyring, recipient_lookup
from hcs.archive.models import ArchiveEntry, ArchivePayload, ErasureRequest, SubjectKey
from templates_store.orm import utcnow

DEFERRED, DONE = "deferred", "done"


def _held(session: Session, lookup: str) -> int:
    held = held_entries(ArchiveEntry.recipient_lookup == lookup)
    return session.scalar(select(func.count()).select_from(held)) or 0


def erase_recipient(
    session: Session, recipient_key: str, *, actor: str, keys: Keyring | None = None
) -> int:
    """Destroy a data subject's keys; returns how many entries became unreadable. Audited.

    OnLegalHold while any of their entries is held (`request_erasure` defers instead).
    """
    keys = keys or default_keyring()
    lookup = recipient_lookup(session, keys, recipient_key)
    held = _held(session, lookup)
    if held:
        raise OnLegalHold(f"{held} entries of this recipient are on legal hold; release them first")
    return _erase(session, lookup, actor, keys.master_id)


def _erase(session: Session, lookup: str, actor: str, master_id: str) -> int:
    subjects = live_subject_keys(session, lookup)
    readable = select(func.count(ArchiveEntry.id)).join(
        ArchivePayload, ArchivePayload.entry_id == ArchiveEntry.id
    )
    ids = [s.id for s in subjects]
    count = session.scalar(readable.where(ArchiveEntry.subject_key_id.in_(ids))) or 0
    now = utcnow()
    for subject in subjects:
        subject.wrapped_key, subject.erased_at, subject.erased_by = None, now, actor
    if not subjects:  # nothing archived yet: the erasure is still kept, for late archiving
        erased = SubjectKey(lookup=lookup, master_id=master_id)
        erased.erased_at, erased.erased_by = now, actor
        session.add(erased)
    detail = {"entries": count, "keys": len(ids)}
    audit.record(
        session,
        actor=actor,
        action="archive.erase",
        target_type="data_subject",
        target=lookup,
        detail=detail,
    )
    return count


def request_erasure(
    session: Session, recipient_key: str, *, actor: str, keys: Keyring | None = None
) -> ErasureRequest:
    """Erase a data subject now, or, while entries of theirs are held, record it as deferred."""
    keys = keys or default_keyring()
    lookup = recipient_lookup(session, keys, recipient_key)
    held = _held(session, lookup)
    state = DEFERRED if held else DONE
    request = ErasureRequest(lookup=lookup, state=state, requested_by=actor, requested_at=utcnow())
    session.add(request)
    if held:
        # Kept (encrypted) only while deferred: the copies outside the archive are found by it.
        request.recipient = _seal_recipient(session, keys, lookup, recipient_key)
        session.flush()
        detail = {"request": request.id, "held_entries": held}
        audit.record(
            session,
            actor=actor,
            action="archive.erase_deferred",
            target_type="data_subject",
            target=lookup,
            detail=detail,
        )
        return request
    request.entries = _erase(session, lookup, actor, keys.master_id)
    request.done_at = utcnow()
    session.flush()
    return request


def _aad(lookup: str) -> str:
    return f"hcs.archive:erasure:{lookup}"


def _seal_recipient(session: Session, keys: Keyring, lookup: str, recipient_key: str) -> bytes:
    # The lookup key outlives every master key (`hcs.archive.lookups`), so rotation cannot
    # strand a deferred request.
    lookup_key = archive_keyring(session, keys).lookup_key
    return crypto.encrypt(lookup_key, recipient_key.encode(), _aad(lookup))


def _open_recipient(session: Session, keys: Keyring, request: ErasureRequest) -> str | None:
    if request.recipient is None:
        return None
    lookup_key = archive_keyring(session, keys).lookup_key
    try:
        return crypto.decrypt(lookup_key, request.recipient, _aad(request.lookup)).decode()
    except ArchiveKeyError:
        return None


def carry_out_deferred(
    session: Session, *, actor: str, keys: Keyring | None = None
) -> list[tuple[ErasureRequest, str | None]]:
    """Carry out the deferred erasures whose subject has no held entry left.

    Returns each request done with its recipient's address (None if it cannot be read), for
    the caller to erase the copies outside the archive; the stored address is dropped.
    """
    keys = keys or default_keyring()
    query = select(ErasureRequest).where(ErasureRequest.state == DEFERRED)
    done = []
    for request in session.scalars(query.order_by(ErasureRequest.id)):
        if _held(session, request.lookup):
            continue
        master_id = default_master_id(session, request.lookup)
        request.entries = _erase(session, request.lookup, f"{actor} (deferred)", master_id)
        request.state, request.done_at = DONE, utcnow()
        done.append((request, _open_recipient(session, keys, request)))
        request.recipient = None
    session.flush()
    return done


def default_master_id(session: Session, lookup: str) -> str:
    """The master key id the subject's newest key is wrapped under."""
    query = select(SubjectKey.master_id).where(SubjectKey.lookup == lookup)
    return session.scalar(query.order_by(SubjectKey.id.desc()).limit(1)) or ""


def list_erasures(session: Session) -> list[ErasureRequest]:
    """Every erasure request, oldest first."""
    return list(session.scalars(select(ErasureRequest).order_by(ErasureRequest.id)))
