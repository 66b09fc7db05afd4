"""Rotating the master key: every subject's key, and the lookup key, re-wrapped under the new one.

Entries, payloads and events are untouched (their keys hang below the subjects' keys), so the
seals still verify. The caller commits each batch: a subject key already under the current
master key is not selected again, so a run that stopped half-way is simply run again, and a run
with nothing left to do changes nothing.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hcs import audit
from hcs.archive.crypto import Keyring
from hcs.archive.errors import ArchiveKeyError
from hcs.archive.lookups import LOOKUP_KEY_ID, store_lookup_key
from hcs.archive.models import LookupKey, SubjectKey

LIVE = SubjectKey.wrapped_key.is_not(None)


def keys_by_master(session: Session) -> dict[str, int]:
    """How many live (not erased) subject keys each master key wraps."""
    query = select(SubjectKey.master_id, func.count()).where(LIVE).group_by(SubjectKey.master_id)
    return {master_id: count for master_id, count in session.execute(query)}


def _check_configured(session: Session, keys: Keyring, waiting: dict[str, int]) -> None:
    """ArchiveKeyError, in one line, when a master key still in use is not configured."""
    in_use = dict(waiting)
    stored = session.get(LookupKey, LOOKUP_KEY_ID)
    if stored is not None:
        in_use.setdefault(stored.master_id, 0)
    missing = sorted(set(in_use) - set(keys.master_ids))
    if missing:
        count = sum(in_use[master_id] for master_id in missing)
        raise ArchiveKeyError(
            f"{count} subject keys are wrapped under master key {', '.join(missing)}, which is "
            "not configured: add it to HCS_ARCHIVE_PREVIOUS_MASTER_KEYS"
        )


def start_rotation(session: Session, keys: Keyring, *, actor: str) -> int:
    """Check the old master keys are configured, re-wrap the lookup key; how many wait. Audited."""
    waiting = {k: n for k, n in keys_by_master(session).items() if k != keys.master_id}
    _check_configured(session, keys, waiting)
    store_lookup_key(session, keys)
    audit.record(
        session,
        actor=actor,
        action="archive.key_rotation.started",
        target_type="archive_master_key",
        target=keys.master_id,
        detail={"from": sorted(waiting), "waiting": sum(waiting.values())},
    )
    return sum(waiting.values())


def rewrap_batch(session: Session, keys: Keyring, *, limit: int = 500) -> int:
    """Re-wrap up to `limit` subject keys still under an earlier master key; how many."""
    batch = session.scalars(
        select(SubjectKey)
        .where(LIVE, SubjectKey.master_id != keys.master_id)
        .order_by(SubjectKey.id)
        .limit(limit)
        # Row locks: an erasure waits, and a key it erased first is not brought back.
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    for subject in batch:
        wrapped = cast(bytes, subject.wrapped_key)  # selected as live
        plain = keys.unwrap_subject_key(wrapped, subject.lookup, subject.master_id)
        subject.wrapped_key = keys.wrap_subject_key(plain, subject.lookup)
        subject.master_id = keys.master_id
    session.flush()
    return len(batch)


def finish_rotation(session: Session, keys: Keyring, rewrapped: int, *, actor: str) -> None:
    """Record in the audit log how many keys this run re-wrapped."""
    audit.record(
        session,
        actor=actor,
        action="archive.key_rotation.finished",
        target_type="archive_master_key",
        target=keys.master_id,
        detail={"rewrapped": rewrapped},
    )
