"""Data subjects' keys: created on first use, opened per entry, destroyed on erasure."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.orm import Session

from hcs.archive import crypto
from hcs.archive.crypto import Keyring
from hcs.archive.models import ArchivePayload, SubjectKey
from templates_store.orm import utcnow

# Built once: the write path runs these for every archived output. Mapped columns, not whole
# objects: the write path keeps nothing in the session (see store.archive_output).
_LIVE_KEY = (
    select(SubjectKey.id, SubjectKey.wrapped_key)
    .where(
        SubjectKey.lookup == bindparam("lookup"),
        SubjectKey.wrapped_key.is_not(None),
        SubjectKey.master_id == bindparam("master_id"),
    )
    .order_by(SubjectKey.id)
    .limit(1)
)
_KEYS = cast(Table, SubjectKey.__table__)
_NEW_KEY = insert(_KEYS).returning(_KEYS.c.id)


def subject_key(session: Session, keys: Keyring, lookup: str) -> tuple[int, bytes]:
    """The id and plain bytes of the subject's live key, made on first use."""
    # Two writers may each make one for a new subject: harmless, erasure destroys all of them.
    row = session.execute(_LIVE_KEY, {"lookup": lookup, "master_id": keys.master_id}).first()
    if row is not None:
        return row.id, keys.unwrap_subject_key(row.wrapped_key, lookup, keys.master_id)
    plain = crypto.new_key()
    values = {
        "lookup": lookup,
        "wrapped_key": keys.wrap_subject_key(plain, lookup),
        "master_id": keys.master_id,
        "created_at": utcnow(),
    }
    return session.execute(_NEW_KEY, values).scalar_one(), plain


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


def erased_since(session: Session, lookup: str, moment: datetime) -> bool:
    """Whether a key of this subject was erased at or after `moment`."""
    query = select(SubjectKey.id).where(SubjectKey.lookup == lookup, SubjectKey.erased_at >= moment)
    return session.scalar(query.limit(1)) is not None


def live_subject_keys(session: Session, lookup: str) -> list[SubjectKey]:
    """Every key of one subject not erased yet."""
    query = select(SubjectKey).where(
        SubjectKey.lookup == lookup, SubjectKey.wrapped_key.is_not(None)
    )
    return list(session.scalars(query.order_by(SubjectKey.id)))
