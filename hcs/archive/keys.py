"""Data subjects' keys: created on first use, opened per entry, destroyed on erasure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from hcs.archive import crypto
from hcs.archive.crypto import Keyring
from hcs.archive.models import ArchivePayload, SubjectKey
from hcs.infrastructure.inserts import insert_rows
from hcs.infrastructure.lists import by_array, one_of
from templates_store.orm import utcnow

# Built once: the write path runs these for every archived output. Mapped columns, not whole
# objects: the write path keeps nothing in the session (see store.archive_outputs).
_LIVE_KEYS = {
    array: select(SubjectKey.id, SubjectKey.lookup, SubjectKey.wrapped_key)
    .where(
        one_of(SubjectKey.lookup, "lookups", array=array),
        SubjectKey.wrapped_key.is_not(None),
        SubjectKey.master_id == bindparam("master_id"),
    )
    .order_by(SubjectKey.id)
    for array in (False, True)
}
_KEYS = cast(Table, SubjectKey.__table__)


def subject_keys(
    session: Session, keys: Keyring, lookups: Sequence[str]
) -> dict[str, tuple[int, bytes]]:
    """The live key of each subject (id and plain bytes), the missing ones made: two statements."""
    # Two writers may each make one for a new subject: harmless, erasure destroys all of them.
    found: dict[str, tuple[int, bytes]] = {}
    asked = {"lookups": list(set(lookups)), "master_id": keys.master_id}
    live = session.execute(_LIVE_KEYS[by_array(session)], asked)
    for row in live:
        if row.lookup not in found:  # the oldest, as one at a time would find it
            plain = keys.unwrap_subject_key(row.wrapped_key, row.lookup, keys.master_id)
            found[row.lookup] = row.id, plain
    missing = sorted(set(lookups) - set(found))
    if missing:
        plains = {lookup: crypto.new_key() for lookup in missing}
        now = utcnow()
        rows = [
            {
                "lookup": lookup,
                "wrapped_key": keys.wrap_subject_key(plains[lookup], lookup),
                "master_id": keys.master_id,
                "created_at": now,
            }
            for lookup in missing
        ]
        # Matched by lookup, not by the rows' order, which SQLite's RETURNING does not promise.
        made = insert_rows(session.connection(), _KEYS, rows, returning=("id", "lookup"))
        found |= {lookup: (key_id, plains[lookup]) for key_id, lookup in made}
    return found


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
