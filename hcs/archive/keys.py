"""Data subjects' keys: created on first use, opened per entry, destroyed on erasure."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from hcs.archive import crypto
from hcs.archive.crypto import Keyring
from hcs.archive.models import ArchivePayload, SubjectKey

# Built once: the write path runs this for every archived output.
_LIVE_KEY = (
    select(SubjectKey)
    .where(
        SubjectKey.lookup == bindparam("lookup"),
        SubjectKey.wrapped_key.is_not(None),
        SubjectKey.master_id == bindparam("master_id"),
    )
    .order_by(SubjectKey.id)
    .limit(1)
)


def subject_key(session: Session, keys: Keyring, lookup: str) -> tuple[SubjectKey, bytes]:
    """The subject's live key (made on first use), as its row and its plain bytes."""
    # Two writers may each make one for a new subject: harmless, erasure destroys all of them.
    params = {"lookup": lookup, "master_id": keys.master_id}
    row = session.scalars(_LIVE_KEY, params).first()
    if row is not None and row.wrapped_key is not None:
        return row, keys.unwrap_subject_key(row.wrapped_key, lookup, row.master_id)
    plain = crypto.new_key()
    row = SubjectKey(
        lookup=lookup, wrapped_key=keys.wrap_subject_key(plain, lookup), master_id=keys.master_id
    )
    session.add(row)
    return row, plain


def entry_aad(message_id: str, part: str) -> str:
    """The associated data binding one ciphertext to its entry and its role there."""
    return f"hcs.archive:{message_id}:{part}"


def open_entry_key(
    session: Session, keys: Keyring, subject_key_id: int, payload: ArchivePayload, message_id: str
) -> bytes | None:
    """The entry's key, or None when its subject's key was erased."""
    subject = session.get_one(SubjectKey, subject_key_id)
    if subject.wrapped_key is None:
        return None
    plain = keys.unwrap_subject_key(subject.wrapped_key, subject.lookup, subject.master_id)
    return crypto.decrypt(plain, payload.wrapped_key, entry_aad(message_id, "key"))


def live_subject_keys(session: Session, lookup: str) -> list[SubjectKey]:
    """Every key of one subject not erased yet."""
    query = select(SubjectKey).where(
        SubjectKey.lookup == lookup, SubjectKey.wrapped_key.is_not(None)
    )
    return list(session.scalars(query.order_by(SubjectKey.id)))
