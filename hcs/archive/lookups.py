"""Recipient lookups: the keyed hash that finds a data subject's entries, whatever the master key.

Entries seal their recipient's lookup, so the key of lookups must outlive every master key. It
is stored wrapped under the master key (`LookupKey`, written by rotation). An archive that has
stored none uses the key derived from the master key that wrapped its first subject key (before
rotation every key of an archive was wrapped by one master key), or from the current master key
while the archive is empty.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hcs.archive.crypto import Keyring, derived_lookup_key
from hcs.archive.models import LookupKey, SubjectKey
from templates_store.orm import utcnow

LOOKUP_KEY_ID = 1
# Once an archive has a subject key or a stored lookup key, its lookup key never changes (rotation
# re-wraps it), so each process resolves it once per keyring: the write path pays nothing.
_RESOLVED: dict[Keyring, Keyring] = {}


def _lookup_key(session: Session, keys: Keyring) -> tuple[bytes, bool]:
    """The archive's lookup key, and whether it is settled for good."""
    stored = session.get(LookupKey, LOOKUP_KEY_ID)
    if stored is not None:
        return keys.unwrap_lookup_key(stored.wrapped_key, stored.master_id), True
    first = session.scalar(select(SubjectKey.master_id).order_by(SubjectKey.id).limit(1))
    if first is None:
        return keys.lookup_key, False
    return derived_lookup_key(keys.master_for(first)), True


def archive_keyring(session: Session, keys: Keyring) -> Keyring:
    """`keys` with the archive's own lookup key."""
    resolved = _RESOLVED.get(keys)
    if resolved is None:
        lookup_key, settled = _lookup_key(session, keys)
        resolved = keys.with_lookup_key(lookup_key)
        if settled:
            _RESOLVED[keys] = resolved
    return resolved


def recipient_lookup(session: Session, keys: Keyring, recipient_key: str) -> str:
    """The lookup of one normalised recipient address in this archive."""
    return archive_keyring(session, keys).lookup(recipient_key)


def store_lookup_key(session: Session, keys: Keyring) -> LookupKey:
    """Keep the archive's lookup key, wrapped under the current master key."""
    lookup_key, _ = _lookup_key(session, keys)
    stored = session.get(LookupKey, LOOKUP_KEY_ID) or LookupKey(id=LOOKUP_KEY_ID)
    stored.wrapped_key = keys.wrap_lookup_key(lookup_key)
    stored.master_id, stored.wrapped_at = keys.master_id, utcnow()
    session.add(stored)
    session.flush()
    return stored
